/*
 * The VIP backends of the tasks this node serves, as the table build finds
 * them (the same labels, addresses and health): what a cluster node
 * publishes for the others (issue 9 item 2), and the task behind one
 * destination, for the audit log.
 */
#include "vipd/desired.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vipd/vip.h"

#include "desired_int.h"
#include "vipd/vec.h"
#include "vipd/desired_feed.h"

struct local_list {
	struct desired_local_backend *items;
	size_t n, cap;
};

static int list_push(struct local_list *l, const struct desired_local_backend *b)
{
	if (VEC_RESERVE(l->items, l->cap, l->n + 1) < 0)
		return -1;
	l->items[l->n++] = *b;
	return 0;
}

/* An address VIP forwards only to its own family (IPVS NAT); a named one
 * has a service in each family. */
static int add_use(struct local_list *l, const struct app *a, const struct vip_use *u,
                   const struct port_policy *p, const struct backend *bes, size_t nbes)
{
	static const struct {
		unsigned bit;
		uint8_t proto;
	} protos[] = {{PORT_PROTO_TCP, IPPROTO_TCP}, {PORT_PROTO_UDP, IPPROTO_UDP}};

	for (size_t i = 0; i < nbes; i++) {
		if (!u->ref.named && bes[i].addr.af != u->ref.addr.af)
			continue;
		for (size_t k = 0; k < sizeof(protos) / sizeof(protos[0]); k++) {
			struct desired_local_backend b = {
			    .protocol = protos[k].proto,
			    .vip = u->ref,
			    .addr = bes[i].addr,
			    .port = bes[i].port,
			    .weight = p->weight,
			    .health = bes[i].health,
			    .app_id = a->id,
			    .task_id = a->tasks[bes[i].task].id,
			};

			if ((u->protocols & protos[k].bit) && list_push(l, &b) < 0)
				return -1;
		}
	}
	return 0;
}

static int add_uses(struct local_list *l, const struct desired_input *in, const struct vip_list *vl,
                    struct diag_list *scratch)
{
	for (size_t u = 0; u < vl->n; u++) {
		const struct app *a = &in->apps->apps[vl->items[u].app];
		struct port_policy p;
		struct backend *bes;
		size_t nbes = 0;
		int rc;

		desired_read_port_policy(scratch, a, vl->items[u].port, &p);
		bes = desired_port_backends(scratch, in, a, vl->items[u].port, p.scope, &nbes);
		if (bes == NULL)
			return -1;
		rc = add_use(l, a, &vl->items[u], &p, bes, nbes);
		free(bes);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int desired_local_backends(const struct desired_input *in, struct desired_local_backend **out,
                           size_t *n)
{
	struct diag_list scratch = {0};
	struct vip_list vl = {0};
	struct local_list l = {0};
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (vip_collect_in(in->apps, in->ranges, &vl, &scratch) < 0)
		goto out;
	if (add_uses(&l, in, &vl, &scratch) < 0) {
		free(l.items);
		goto out;
	}
	*out = l.items;
	*n = l.n;
	rc = 0;
out:
	vip_list_free(&vl);
	diag_list_free(&scratch);
	return rc;
}

static int origin_of_use(const struct desired_input *in, const struct vip_use *u,
                         const struct lb_addr *addr, uint16_t port, struct desired_origin *out,
                         struct diag_list *scratch)
{
	const struct app *a = &in->apps->apps[u->app];
	struct port_policy p;
	struct backend *bes;
	size_t nbes = 0;

	desired_read_port_policy(scratch, a, u->port, &p);
	bes = desired_port_backends(scratch, in, a, u->port, p.scope, &nbes);
	if (bes == NULL)
		return -1;
	for (size_t i = 0; i < nbes; i++) {
		if (bes[i].port != port || lb_addr_cmp(&bes[i].addr, addr) != 0)
			continue;
		if (out->ntasks++ == 0) {
			out->app_id = a->id;
			out->task_id = a->tasks[bes[i].task].id;
		}
	}
	free(bes);
	return 0;
}

int desired_origin_find(const struct desired_input *in, const struct desired_index *ix,
                        const struct lb_key *svc, const struct lb_addr *addr, uint16_t port,
                        struct desired_origin *out)
{
	struct diag_list scratch = {0};
	size_t first = desired_feed_lower(ix, svc);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (size_t f = first; f < ix->nfeeds && lb_key_cmp(&ix->feeds[f].svc, svc) == 0; f++) {
		const struct vip_use *u = &ix->uses.items[ix->feeds[f].use];

		if (out->use == NULL)
			out->use = u;
		if (addr == NULL)
			break;
		if (desired_feed_port_seen(ix, first, f))
			continue;
		rc = origin_of_use(in, u, addr, port, out, &scratch);
		if (rc < 0)
			break;
	}
	diag_list_free(&scratch);
	return rc;
}
