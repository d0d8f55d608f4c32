/*
 * One line of the kernel's IPVS connection table as /proc/net/ip_vs_conn
 * lists it: "TCP 0A000001 9C40 0AC8000A 0050 0A3D0102 1F90 SYN_RECV 57"
 * (protocol, client, virtual and destination address and port, state,
 * seconds left), IPv4 addresses as 8 hex digits of the host-order value,
 * IPv6 ones as the kernel's %pI6 ("fd00:0000:...:0001"), ports as 4 hex
 * digits. Pure: api_kstats.c reads the file.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/api.h"

static int conn_addr(const char *tok, struct lb_addr *out)
{
	char *end;
	unsigned long v;

	memset(out, 0, sizeof(*out));
	if (strchr(tok, ':')) {
		out->af = AF_INET6;
		return inet_pton(AF_INET6, tok, &out->u.v6) == 1 ? 0 : -1;
	}
	if (strlen(tok) != 8)
		return -1;
	v = strtoul(tok, &end, 16);
	if (*end != '\0')
		return -1;
	out->af = AF_INET;
	out->u.v4.s_addr = htonl((uint32_t)v);
	return 0;
}

static int conn_port(const char *tok, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(tok, &end, 16);

	if (strlen(tok) != 4 || *end != '\0')
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int conn_proto(const char *tok, uint8_t *out)
{
	if (strcmp(tok, "TCP") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(tok, "UDP") == 0)
		*out = IPPROTO_UDP;
	else
		return -1;
	return 0;
}

int api_ipvsconn_parse(const char *line, struct api_ipvsconn *out)
{
	char proto[8], caddr[48], cport[8], vaddr[48], vport[8], daddr[48], dport[8];
	uint16_t ignored;

	memset(out, 0, sizeof(*out));
	if (sscanf(line, "%7s %47s %7s %47s %7s %47s %7s %15s", proto, caddr, cport, vaddr, vport,
	           daddr, dport, out->state) != 8)
		return -1;
	if (conn_proto(proto, &out->svc.protocol) < 0 || conn_addr(vaddr, &out->svc.addr) < 0 ||
	    conn_port(vport, &out->svc.port) < 0 || conn_addr(daddr, &out->dest) < 0 ||
	    conn_port(dport, &out->dport) < 0 || conn_port(cport, &ignored) < 0)
		return -1;
	return 0;
}
