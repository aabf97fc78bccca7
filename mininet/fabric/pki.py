"""A fresh `ovs-pki` PKI for one run: the controller's and the switches' certificates.

`ovs-pki init` makes two CAs (controllerca/, switchca/).  The controller gets an ECDSA P-256 key
(made by openssl, signed by `ovs-pki -b sign`, as docs/operating.md#tls and tests/ovs_tls.rs do:
it signs handshakes far faster than RSA); the private Open vSwitch gets one RSA-2048 switch
certificate (`set-ssl` is one setting per ovs-vswitchd, so every bridge presents it); the
impostor scenario gets a second switch certificate from the same CA, valid but not pinned.
"""

import os
import shutil

from . import procs

SUBJECT = '/C=US/ST=CA/O=Open vSwitch/OU=Open vSwitch certifier/CN=%s'


class Pki:
    """Files of one run's PKI, all under `directory` (absolute paths: ovs-vswitchd runs from /)."""

    def __init__(self, directory):
        self.directory = directory

    def path(self, name):
        return os.path.join(self.directory, name)

    @property
    def controller_cert(self):
        return self.path('ctl-cert.pem')

    @property
    def controller_key(self):
        return self.path('ctl-privkey.pem')

    @property
    def switch_ca(self):
        """What the controller's `tls_client_ca` names: switch certificates chain to it."""
        return self.path('pki/switchca/cacert.pem')

    @property
    def controller_ca(self):
        """What the switches' `set-ssl` names: the controller's certificate chains to it."""
        return self.path('pki/controllerca/cacert.pem')

    def switch_cert(self, name='sw'):
        return self.path('%s-cert.pem' % name)

    def switch_key(self, name='sw'):
        return self.path('%s-privkey.pem' % name)

    def create(self):
        """The CAs, the controller certificate, the switch and the impostor certificates.  Raises on failure."""
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory)
        pki = 'cd %s && ovs-pki --dir=%s' % (self.directory, self.path('pki'))
        procs.run('%s init' % pki, check=True, timeout=120)
        procs.run('cd %s && openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "%s" '
                  '-keyout ctl-privkey.pem -out ctl-req.pem 2>&1' % (self.directory, SUBJECT % 'ctl'), check=True)
        procs.run('%s -b sign ctl controller' % pki, check=True)
        for name in ('sw', 'impostor'):
            procs.run('%s req+sign %s switch' % (pki, name), check=True, timeout=120)
        return self

    def fingerprint(self, name='sw'):
        """The SHA-256 of a switch certificate as `openssl x509 -fingerprint -sha256` prints it
        (what `[[switch]] cert_sha256` pins and the controller logs as `cert`)."""
        _code, out = procs.run('openssl x509 -in %s -noout -fingerprint -sha256' % self.switch_cert(name),
                               check=True)
        return out.strip().rsplit('=', 1)[-1]
