/*
 * The responder's sockets on the libev loop: one UDP socket and one TCP
 * listener on the configured address, and a bounded set of TCP connections
 * (RFC 7766: two-byte length prefix, several queries per connection, a
 * deadline per query, limits per client and in all, decided by
 * dns_tcp_admit). Answers come from dns_answer; nothing here parses DNS.
 */
#include "vipd/dns.h"
#include "vipd/errbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#define UDP_BURST 64 /* datagrams per wake-up, so that TCP and timers get their turn */

struct dns_conn {
	struct dns_server *srv;
	int fd;
	struct lb_addr peer;
	uint64_t waiting_since; /* dns_server.waits when its current query wait began */
	ev_io io;
	ev_timer deadline; /* DNS_TCP_QUERY_S from that moment */
	uint8_t in[2 + DNS_MSG_MAX];
	size_t in_len;
	uint8_t out[2 + DNS_MSG_MAX];
	size_t out_len, out_off;
	struct dns_conn *next;
};

struct dns_server {
	struct ev_loop *loop;
	int udp_fd, tcp_fd;
	ev_io udp_io, tcp_io;
	struct dns_records records;
	struct dns_conn *conns;
	size_t nconns;
	uint64_t waits; /* query waits begun, to order connections by how long they waited */
	struct dns_server_stats stats;
	uint8_t buf[DNS_MSG_MAX], reply[DNS_MSG_MAX];
};

int dns_listen_parse(const char *text, struct lb_addr *addr, uint16_t *port, char *err,
                     size_t errlen)
{
	const char *colon = strrchr(text, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl = colon ? (size_t)(colon - text) : 0;
	char *end;
	unsigned long p;

	if (colon == NULL || hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']')
			goto bad;
		host[hl - 1] = '\0';
		memmove(host, host + 1, hl - 1);
	}
	if (lb_addr_parse(host, addr) < 0 || (addr->af == AF_INET6 && text[0] != '['))
		goto bad;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || p < 1 || p > 65535)
		goto bad;
	*port = (uint16_t)p;
	return 0;
bad:
	errbuf_set(err, errlen,
	           "DNS listen address \"%s\": expected ADDR:PORT (IPv6 in brackets), port 1-65535",
	           text);
	return -1;
}

static socklen_t to_sockaddr(const struct lb_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->u.v4;
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	s6->sin6_addr = a->u.v6;
	return sizeof(*s6);
}

/* A non-blocking, close-on-exec socket bound to the address; -1 with err. */
static int bind_socket(const char *where, const struct lb_addr *a, uint16_t port, int type,
                       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(a, port, &ss);
	int one = 1;
	int fd = socket(a->af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (a->af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	errbuf_set(err, errlen, "DNS %s on %s: %s", type == SOCK_STREAM ? "TCP" : "UDP", where,
	           strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- UDP ---- */

/* ev_io callback for the UDP socket */
static void on_udp(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_server *s = w->data;

	(void)loop;
	(void)revents;
	for (int i = 0; i < UDP_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n =
		    recvfrom(s->udp_fd, s->buf, sizeof(s->buf), 0, (struct sockaddr *)&from, &fl);
		size_t rlen;

		if (n < 0)
			return; /* EAGAIN, or an ICMP error from an earlier reply */
		s->stats.udp_queries++;
		rlen = dns_answer(&s->records, s->buf, (size_t)n, false, s->reply);
		if (rlen == 0) {
			s->stats.dropped++;
			continue;
		}
		/* A full send buffer drops the reply: the client retries. */
		if (sendto(s->udp_fd, s->reply, rlen, 0, (struct sockaddr *)&from, fl) < 0)
			s->stats.dropped++;
	}
}

/* ---- TCP ---- */

static void conn_close(struct dns_conn *c)
{
	struct dns_server *s = c->srv;

	ev_io_stop(s->loop, &c->io);
	ev_timer_stop(s->loop, &c->deadline);
	close(c->fd);
	c->fd = -1;
	for (struct dns_conn **p = &s->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	s->nconns--;
	free(c);
}

/* The connection begins waiting for its next query: it has
 * DNS_TCP_QUERY_S to deliver all of it, however the bytes trickle in. */
static void conn_wait_query(struct dns_conn *c)
{
	c->waiting_since = ++c->srv->waits;
	ev_timer_stop(c->srv->loop, &c->deadline);
	ev_timer_set(&c->deadline, DNS_TCP_QUERY_S, 0.0);
	ev_timer_start(c->srv->loop, &c->deadline);
}

static void conn_watch(struct dns_conn *c, int events)
{
	ev_io_stop(c->srv->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->srv->loop, &c->io);
}

/* A complete query in the input becomes a queued reply. 1 when one was
 * queued, 0 when more input is needed, -1 to close. */
static int conn_take_query(struct dns_conn *c)
{
	size_t qlen, rlen;

	if (c->in_len < 2)
		return 0;
	qlen = (size_t)c->in[0] << 8 | c->in[1];
	if (c->in_len < 2 + qlen)
		return 0;
	c->srv->stats.tcp_queries++;
	rlen = dns_answer(&c->srv->records, c->in + 2, qlen, true, c->out + 2);
	memmove(c->in, c->in + 2 + qlen, c->in_len - 2 - qlen);
	c->in_len -= 2 + qlen;
	if (rlen == 0) {
		c->srv->stats.dropped++;
		return -1; /* not a query we can answer: the stream is not DNS */
	}
	c->out[0] = (uint8_t)(rlen >> 8);
	c->out[1] = (uint8_t)rlen;
	c->out_len = rlen + 2;
	c->out_off = 0;
	return 1;
}

static void conn_write(struct dns_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EV_WRITE);
			return;
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	conn_wait_query(c);
	switch (conn_take_query(c)) {
	case 1:
		conn_write(c);
		return;
	case -1:
		conn_close(c);
		return;
	default:
		conn_watch(c, EV_READ);
	}
}

static void conn_read(struct dns_conn *c)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	rc = conn_take_query(c);
	if (rc < 0)
		conn_close(c);
	else if (rc > 0)
		conn_write(c);
}

/* ev_io callback for one TCP connection */
static void on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_conn *c = w->data;

	(void)loop;
	if (revents & EV_WRITE)
		conn_write(c);
	else
		conn_read(c);
}

/* ev_timer callback: no whole query within DNS_TCP_QUERY_S of the
 * connection's start or its previous answer (idle, RFC 7766 6.2.3, or
 * trickling its query). */
static void on_conn_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dns_conn *c = w->data;

	(void)loop;
	(void)revents;
	c->srv->stats.tcp_deadline++;
	conn_close(c);
}

static void peer_addr(const struct sockaddr_storage *ss, struct lb_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->af = ss->ss_family;
	if (a->af == AF_INET)
		a->u.v4 = ((const struct sockaddr_in *)ss)->sin_addr;
	else
		a->u.v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr;
}

/* Room for a connection from peer: true when it may be opened, after
 * closing the connection dns_tcp_admit chose to replace. */
static bool make_room(struct dns_server *s, const struct lb_addr *peer)
{
	struct dns_tcp_slot slots[DNS_TCP_CONNS_MAX];
	struct dns_conn *conns[DNS_TCP_CONNS_MAX];
	size_t n = 0, victim;

	for (struct dns_conn *c = s->conns; c && n < DNS_TCP_CONNS_MAX; c = c->next, n++) {
		slots[n] = (struct dns_tcp_slot){.peer = c->peer,
		                                 .waiting_since = c->waiting_since,
		                                 .answering = c->out_len > 0};
		conns[n] = c;
	}
	switch (dns_tcp_admit(slots, n, peer, DNS_TCP_CONNS_MAX, DNS_TCP_CONNS_PER_PEER, &victim)) {
	case DNS_TCP_ADMIT:
		return true;
	case DNS_TCP_ADMIT_EVICT:
		s->stats.tcp_evicted++;
		conn_close(conns[victim]);
		return true;
	case DNS_TCP_REFUSE:
		break;
	}
	return false;
}

/* ev_io callback for the TCP listener */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_server *s = w->data;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct lb_addr peer;
	struct dns_conn *c;
	int fd;

	(void)revents;
	fd = accept4(s->tcp_fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	peer_addr(&from, &peer);
	if (!make_room(s, &peer) || (c = calloc(1, sizeof(*c))) == NULL) {
		s->stats.tcp_refused++;
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->peer = peer;
	ev_io_init(&c->io, on_conn, fd, EV_READ);
	ev_init(&c->deadline, on_conn_deadline);
	c->io.data = c->deadline.data = c;
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	ev_io_start(loop, &c->io);
	conn_wait_query(c);
}

/* ---- the server ---- */

struct dns_server *dns_server_open(struct ev_loop *loop, const char *where, char *err,
                                   size_t errlen)
{
	struct dns_server *s;
	struct lb_addr a;
	uint16_t port;

	if (dns_listen_parse(where, &a, &port, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errbuf_set(err, errlen, "DNS: out of memory");
		return NULL;
	}
	s->loop = loop;
	s->tcp_fd = -1;
	dns_records_init(&s->records, DNS_TTL_DEFAULT);
	s->udp_fd = bind_socket(where, &a, port, SOCK_DGRAM, err, errlen);
	if (s->udp_fd < 0)
		goto fail;
	s->tcp_fd = bind_socket(where, &a, port, SOCK_STREAM, err, errlen);
	if (s->tcp_fd < 0)
		goto fail;
	ev_io_init(&s->udp_io, on_udp, s->udp_fd, EV_READ);
	ev_io_init(&s->tcp_io, on_accept, s->tcp_fd, EV_READ);
	s->udp_io.data = s->tcp_io.data = s;
	ev_io_start(loop, &s->udp_io);
	ev_io_start(loop, &s->tcp_io);
	return s;
fail:
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	free(s);
	return NULL;
}

void dns_server_set_records(struct dns_server *s, struct dns_records *r)
{
	uint32_t serial = s->records.serial;

	if (!dns_records_equal(&s->records, r))
		serial++;
	dns_records_free(&s->records);
	s->records = *r;
	s->records.serial = serial;
	memset(r, 0, sizeof(*r));
	r->ttl = s->records.ttl;
}

const struct dns_records *dns_server_records(const struct dns_server *s)
{
	return &s->records;
}

void dns_server_stats(const struct dns_server *s, struct dns_server_stats *out)
{
	*out = s->stats;
}

void dns_server_close(struct dns_server *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		conn_close(s->conns);
	ev_io_stop(s->loop, &s->udp_io);
	ev_io_stop(s->loop, &s->tcp_io);
	close(s->udp_fd);
	close(s->tcp_fd);
	dns_records_free(&s->records);
	free(s);
}
