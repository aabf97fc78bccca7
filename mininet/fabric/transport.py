"""How a topology's bridges reach the controller: mutual TLS 1.3 or 1.2, or plain TCP.

The topologies' policy files (topologies/*.toml) name a plain `listen` address so that `op25b
check` and `mn --custom` work on a bare checkout; the runner turns the live copy into a TLS-only
policy: `listen` becomes `tls_listen` on the same address, with the run's certificates (fabric/
pki.py), and no plain-TCP listener is left; the API is served over HTTPS with the controller's
certificate (`[api] tls_cert`, `tls_key`; fabric/controller.py checks it against the run's CA).
With `pin`, every `[[switch]]` also gets `cert_sha256` = the fingerprint of the switch
certificate, so the controller accepts each dpid only from that certificate (the impostor
scenario relies on it).

TLS 1.2 is forced on Open vSwitch's side (`ovs-vswitchd --ssl-protocols=TLSv1.2`, the way
tests/ovs_tls.rs does it on OVS 3.1): the controller offers 1.3 and 1.2 and must still enforce
the policy when the switch only speaks 1.2.

Plain TCP is only used with --system-ovs: `set-ssl` is one global setting of an ovs-vswitchd, so
the runner never changes the machine's shared one.
"""

import os
import re

from . import ovsdb_endpoint

LISTEN = re.compile(r'^listen = "([^"]+)"\s*$', re.MULTILINE)
SWITCH = re.compile(r'^\[\[switch\]\]\s*$', re.MULTILINE)


class Transport:
    """name: the label in the results table (tls1.3, tls1.2, tcp)."""

    def __init__(self, name, pki=None, pin=False, ssl_protocols=None):
        self.name = name
        self.pki = pki
        self.pin = pin
        self.ssl_protocols = ssl_protocols

    @property
    def tls(self):
        return self.pki is not None

    @property
    def version(self):
        """The `version` the controller logs for each TLS session (None over TCP)."""
        return {'tls1.3': 'TLSv1_3', 'tls1.2': 'TLSv1_2'}.get(self.name)

    def vswitchd_args(self):
        """Extra ovs-vswitchd arguments this transport needs."""
        return ['--ssl-protocols=%s' % self.ssl_protocols] if self.ssl_protocols else []

    def apply(self, text):
        """A policy text rewritten for this transport (unchanged over TCP)."""
        if not self.tls:
            return text
        keys = ('tls_listen = "\\1"\ntls_cert = "%s"\ntls_key = "%s"\ntls_client_ca = "%s"'
                % (self.pki.controller_cert, self.pki.controller_key, self.pki.switch_ca))
        text, count = LISTEN.subn(keys, text)
        if count != 1:
            raise RuntimeError('expected one `listen = "..."` line to turn into tls_listen')
        if self.pin:
            text = SWITCH.sub('[[switch]]\ncert_sha256 = "%s"' % self.pki.fingerprint(), text)
        if '\n[api]' in text:
            raise RuntimeError('the topology policy has an [api] table: the runner adds its own')
        return text + ('\n# Added by the scenario runner: the API over HTTPS, the controller\'s certificate.\n'
                       '[api]\ntls_cert = "%s"\ntls_key = "%s"\n' % (self.pki.controller_cert, self.pki.controller_key))


def write_live_policy(source, dest, transport):
    """The policy file the controller under test reads: `source` for this transport, watching
    the fabric's own Open vSwitch database (fabric/ovsdb_endpoint.py).  Written whole and renamed
    into place: the controller reloads on changes of the file and must never see half of it."""
    with open(source) as handle:
        text = ovsdb_endpoint.add_to(transport.apply(handle.read()))
    with open(dest + '.new', 'w') as handle:
        handle.write(text)
    os.replace(dest + '.new', dest)
