"""An OpenFlow 1.3 "switch" over mutual TLS that claims another switch's dpid (scenarios_tls.py).

It presents a certificate of its own that chains to the switch CA (valid, but not the one the
policy pins for the dpid), says HELLO, answers FEATURES_REQUEST with the claimed dpid and ECHO
requests, and records what the controller sends until it closes the connection.
"""

import socket
import ssl
import struct
import time

OFP13 = 4
HELLO, ECHO_REQUEST, ECHO_REPLY, FEATURES_REQUEST, FEATURES_REPLY = 0, 2, 3, 5, 6
FLOW_MOD, MULTIPART_REQUEST = 14, 18
MULTIPART_FLOW = 1


def header(kind, length, xid):
    return struct.pack('!BBHI', OFP13, kind, length, xid)


def features_reply(xid, dpid):
    # datapath_id, n_buffers, n_tables, auxiliary_id, pad(2), capabilities, reserved
    return header(FEATURES_REPLY, 32, xid) + struct.pack('!QIBB2xII', dpid, 0, 254, 0, 0, 0)


def read_exactly(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError('closed by the controller')
        data += chunk
    return data


def claim(host, port, cert, key, ca_cert, dpid, limit=3.0):
    """Connects, claims `dpid`, reads until closed or `limit` seconds.  Returns a dict:
    handshake (TLS version or the error), closed (bool), secs, kinds (message types received;
    multipart requests as 18/their type), revealed (FLOW_MODs or flow-table reads received: the
    controller treated it as the switch)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False  # like Open vSwitch: the controller's CA is what is checked
    context.load_verify_locations(ca_cert)
    context.load_cert_chain(cert, key)
    outcome = {'handshake': None, 'closed': False, 'secs': None, 'kinds': [], 'revealed': 0}
    started = time.monotonic()
    try:
        raw = socket.create_connection((host, port), timeout=limit)
        sock = context.wrap_socket(raw)
    except (OSError, ssl.SSLError) as err:
        outcome['handshake'] = 'failed: %s' % err
        return outcome
    outcome['handshake'] = sock.version()
    try:
        sock.settimeout(max(0.1, limit))
        sock.sendall(header(HELLO, 8, 1))
        while time.monotonic() - started < limit:
            _version, kind, length, xid = struct.unpack('!BBHI', read_exactly(sock, 8))
            body = read_exactly(sock, length - 8) if length > 8 else b''
            outcome['kinds'].append('%d/%d' % (kind, struct.unpack('!H', body[:2])[0])
                                    if kind == MULTIPART_REQUEST and len(body) >= 2 else str(kind))
            if kind == FEATURES_REQUEST:
                sock.sendall(features_reply(xid, dpid))
            elif kind == ECHO_REQUEST:
                sock.sendall(header(ECHO_REPLY, length, xid) + body)
            elif kind == FLOW_MOD or (kind == MULTIPART_REQUEST and body[:2] == struct.pack('!H', MULTIPART_FLOW)):
                outcome['revealed'] += 1
    except TimeoutError:
        pass  # still open after `limit` seconds
    except (EOFError, OSError, ssl.SSLError, struct.error):
        outcome['closed'] = True  # EOF, TLS close_notify or a reset: the controller hung up
    finally:
        outcome['secs'] = time.monotonic() - started
        sock.close()
    return outcome
