"""The kernel's side of the Marathon bench (bench/marathon/vm.sh): reads one
IPVS service's destinations straight from the kernel over generic netlink
(IPVS_CMD_GET_DEST, one dump of that service only), independently of vipd
and of its audit log. `ipvsadm -Ln` would dump all 11,000 objects per look;
`ipvsadm -Ln -t VIP:PORT` forks a process per look, tens of ms under TCG.

  IpvsProbe().weights("TCP 10.0.0.1:80") -> {"10.1.0.1:31000": 1, ...}
  IpvsProbe().count() -> (services, destinations) in the whole table
"""
import socket
import struct

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLA_F_NESTED = 0x8000
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
# include/uapi/linux/ip_vs.h
IPVS_GENL_VERSION = 1
IPVS_CMD_GET_SERVICE, IPVS_CMD_GET_DEST = 4, 8
IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_DEST = 1, 2
IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT = 1, 2, 3, 4
IPVS_DEST_ATTR_ADDR, IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_WEIGHT = 1, 2, 4
IPVS_DEST_ATTR_ADDR_FAMILY = 11
PROTOCOLS = {"TCP": socket.IPPROTO_TCP, "UDP": socket.IPPROTO_UDP}


def nla(kind, payload):
    head = struct.pack("=HH", 4 + len(payload), kind)
    return head + payload + b"\0" * ((4 - len(payload) % 4) % 4)


def nla_parse(data):
    attrs, off = {}, 0
    while off + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        attrs[kind & 0x3FFF] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return attrs


class IpvsProbe:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)  # NETLINK_GENERIC
        self.sock.bind((0, 0))
        self.seq = 0
        msgs = self.talk(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST,
                         nla(CTRL_ATTR_FAMILY_NAME, b"IPVS\0"))
        self.family = struct.unpack("=H", nla_parse(msgs[0])[CTRL_ATTR_FAMILY_ID][:2])[0]

    def talk(self, family, cmd, flags, attrs):
        """One request; the payloads (after the genl header) of its answers."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, IPVS_GENL_VERSION, 0) + attrs
        self.sock.send(struct.pack("=IHHII", 16 + len(body), family, flags, self.seq, 0) + body)
        out = []
        while True:
            data = self.sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                length, kind, mflags, seq, _ = struct.unpack_from("=IHHII", data, off)
                if kind == NLMSG_ERROR:
                    err = struct.unpack_from("=i", data, off + 16)[0]
                    if err:
                        raise OSError(-err, "IPVS netlink request refused")
                    return out
                if kind == NLMSG_DONE:
                    return out
                if seq == self.seq:
                    out.append(data[off + 20:off + length])
                if not flags & NLM_F_DUMP and not mflags & 0x2:  # NLM_F_MULTI
                    return out
                off += (length + 3) & ~3

    def weights(self, service):
        """service: as the audit log's ipvs lines spell it, "TCP 10.0.0.1:80"
        (IPv4 only here). Its destinations' weights by "addr:port"."""
        proto, hostport = service.split(" ")
        host, port = hostport.rsplit(":", 1)
        svc = (nla(IPVS_SVC_ATTR_AF, struct.pack("=H", socket.AF_INET)) +
               nla(IPVS_SVC_ATTR_PROTOCOL, struct.pack("=H", PROTOCOLS[proto])) +
               nla(IPVS_SVC_ATTR_ADDR, socket.inet_aton(host) + b"\0" * 12) +
               nla(IPVS_SVC_ATTR_PORT, struct.pack("!H", int(port))))
        msgs = self.talk(self.family, IPVS_CMD_GET_DEST, NLM_F_REQUEST | NLM_F_DUMP,
                         nla(IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, svc))
        out = {}
        for m in msgs:
            dest = nla_parse(nla_parse(m).get(IPVS_CMD_ATTR_DEST, b""))
            if IPVS_DEST_ATTR_ADDR not in dest:
                continue
            addr = socket.inet_ntoa(dest[IPVS_DEST_ATTR_ADDR][:4])
            dport = struct.unpack("!H", dest[IPVS_DEST_ATTR_PORT][:2])[0]
            out["%s:%d" % (addr, dport)] = struct.unpack("=I", dest[IPVS_DEST_ATTR_WEIGHT][:4])[0]
        return out

    def services(self):
        """Every service in the table, as "TCP 10.0.0.1:80" (IPv4 ones)."""
        names = {v: k for k, v in PROTOCOLS.items()}
        out = []
        for m in self.talk(self.family, IPVS_CMD_GET_SERVICE, NLM_F_REQUEST | NLM_F_DUMP, b""):
            svc = nla_parse(nla_parse(m).get(IPVS_CMD_ATTR_SERVICE, b""))
            if IPVS_SVC_ATTR_ADDR not in svc or IPVS_SVC_ATTR_PORT not in svc:
                continue
            if struct.unpack("=H", svc[IPVS_SVC_ATTR_AF][:2])[0] != socket.AF_INET:
                continue
            out.append("%s %s:%d" % (names.get(struct.unpack("=H", svc[IPVS_SVC_ATTR_PROTOCOL][:2])[0], "?"),
                                     socket.inet_ntoa(svc[IPVS_SVC_ATTR_ADDR][:4]),
                                     struct.unpack("!H", svc[IPVS_SVC_ATTR_PORT][:2])[0]))
        return out

    def count(self):
        """(services, destinations) in the kernel's table: one dump per service."""
        svcs = self.services()
        return len(svcs), sum(len(self.weights(s)) for s in svcs)

    def close(self):
        self.sock.close()
