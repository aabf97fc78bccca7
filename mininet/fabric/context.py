"""What every scenario works with: the network, addresses, responders and recorded checks."""

from . import traffic

SMTP_WAIT = 'banner'
BLOCKED = 'no banner'
# An allowed connection may take up to 3 s (SYN retransmits after 1 s on a loaded machine);
# a blocked one is judged after 1.5 s: the SYN and its first retransmission both dropped.
ALLOWED_TIMEOUT = 3.0
BLOCKED_TIMEOUT = 1.5


class Fabric:
    """A running topology plus its controller, responders and the results table."""

    def __init__(self, net, topo, results, controller, log_dir, transport):
        self.net = net
        self.transport = transport  # fabric/transport.py: how the bridges reach the controller
        self.topo = topo
        self.results = results
        self.controller = controller
        self.log_dir = log_dir
        self.responders = {}
        self.servers = []

    def host(self, name):
        return self.net.get(name)

    def addr(self, name, family):
        return self.topo.HOSTS[name][2 if family == 4 else 3]

    def mac(self, name):
        return self.topo.HOSTS[name][4]

    def start_servers(self, smtp_ports, http_hosts=()):
        """smtp_ports: {host name: [ports]}: an SMTP responder per host on those ports."""
        for name, ports in smtp_ports.items():
            self.responders[name] = traffic.start_responder(self.host(name), name, ports, self.log_dir)
        for name in http_hosts:
            self.servers.append(traffic.start_http(self.host(name), self.log_dir))

    def stop_servers(self):
        for bg in list(self.responders.values()) + self.servers:
            bg.kill()

    def expect_banner(self, scenario, src, dst, port, family):
        result = traffic.smtp(self.host(src), self.addr(dst, family), port, timeout=ALLOWED_TIMEOUT)
        observed = result.get('banner') if result.get('ok') else result.get('error')
        return self.results.record(scenario, '%s -> %s:%d v%d' % (src, dst, port, family), SMTP_WAIT,
                                   observed, result.get('ok'))

    def expect_blocked(self, scenario, src, dst, port, family):
        """No banner at the client AND the server never accepted a connection from it."""
        peer = self.addr(src, family)
        log = self.responders[dst].log_path
        before = traffic.server_accepts(log, port, peer)
        result = traffic.smtp(self.host(src), self.addr(dst, family), port, timeout=BLOCKED_TIMEOUT)
        after = traffic.server_accepts(log, port, peer)
        if result.get('ok'):
            observed = 'banner: %s' % result.get('banner')
        else:
            observed = '%s; server accepts +%d' % (result.get('error'), after - before)
        return self.results.record(scenario, '%s -> %s:%d v%d' % (src, dst, port, family), BLOCKED,
                                   observed, not result.get('ok') and after == before)

    def check(self, scenario, check, expected, observed, passed):
        return self.results.record(scenario, check, expected, observed, passed)
