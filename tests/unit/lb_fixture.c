/* The data plane's set tests' building blocks (lb_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "lb_fixture.h"

struct lb_key fixture_key(const char *addr, uint16_t port)
{
	struct lb_key k = {.port = port, .protocol = IPPROTO_TCP};

	assert_int_equal(lb_addr_parse(addr, &k.addr), 0);
	return k;
}

struct lb_service *fixture_add_svc(struct lb_table *t, const char *addr, uint16_t port)
{
	struct lb_key k = fixture_key(addr, port);
	struct lb_service *s = lb_table_add_service(t, &k);

	assert_non_null(s);
	return s;
}

void fixture_add_key(struct lb_keyset *ks, const char *addr, uint16_t port)
{
	struct lb_key k = fixture_key(addr, port);

	assert_int_equal(lb_keyset_add(ks, &k), 0);
}

const char *fixture_keys_text(const struct lb_keyset *ks, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ks->n && off < len; i++) {
		char k[64];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
		                        lb_key_format(&ks->keys[i], k, sizeof(k)));
	}
	return buf;
}

int fixture_setup(void **state)
{
	struct lb_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	lb_table_init(&f->kernel);
	lb_table_init(&f->part);
	lb_table_init(&f->desired);
	lb_table_init(&f->observed);
	lb_keyset_init(&f->owned);
	lb_keyset_init(&f->targets);
	lb_keyset_init(&f->keys);
	lb_keyset_init(&f->deleted);
	lb_keyset_init(&f->out);
	*state = f;
	return 0;
}

int fixture_teardown(void **state)
{
	struct lb_fixture *f = *state;

	lb_table_free(&f->kernel);
	lb_table_free(&f->part);
	lb_table_free(&f->desired);
	lb_table_free(&f->observed);
	lb_keyset_free(&f->owned);
	lb_keyset_free(&f->targets);
	lb_keyset_free(&f->keys);
	lb_keyset_free(&f->deleted);
	lb_keyset_free(&f->out);
	free(f);
	return 0;
}
