"""The controller's X-ARF v4 abuse reports: the report file and report_command, validated.

add_outputs() gives the live policy a report file and a report_command (report-sink.sh,
appending each report it gets on stdin to a second file) in this run's state directory.
check_reports() then, after the spray (offender_spray.py), checks that the spraying subscriber
was reported (IPv4 and IPv6, switch 1 port 2, the IPv6 one with its /64), that the command got
exactly the file's lines, and that every line of both validates against the X-ARF v4 master
schema with tests/data/xarf-v4/validate.py (python3-jsonschema, schemas copied into the
repository, never the network).  A control check feeds the same validator the first report
without its required `compromise_evidence`: it must refuse it, so a validator that passes
everything fails this scenario.
"""

import json
import os
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VALIDATOR = os.path.join(REPO, 'tests', 'data', 'xarf-v4', 'validate.py')
SINK_SCRIPT = os.path.join(HERE, 'report-sink.sh')
WAIT = 10.0


def paths(log_dir, name):
    """(report file, report_command output) of one topology's run."""
    return (os.path.join(log_dir, '%s-reports.jsonl' % name),
            os.path.join(log_dir, '%s-reports-command.jsonl' % name))


def add_outputs(policy_path, log_dir, name):
    """Adds report_path, reported_from and report_command to the live policy's [reporting]
    (written whole and renamed, like transport.write_live_policy); removes earlier outputs."""
    report, command_out = paths(log_dir, name)
    for path in (report, command_out):
        if os.path.exists(path):
            os.remove(path)
    with open(policy_path) as handle:
        text = handle.read()
    keys = ('[reporting]\nreport_path = %s\nreported_from = "abuse@isp.example"\n'
            'reporter_org = "op25b Mininet ISP"\nreport_command = [%s, %s]\n') % (
                json.dumps(report), json.dumps(SINK_SCRIPT), json.dumps(command_out))
    if '[reporting]\n' in text:
        text = text.replace('[reporting]\n', keys, 1)
    else:
        text += '\n' + keys
    with open(policy_path + '.new', 'w') as handle:
        handle.write(text)
    os.replace(policy_path + '.new', policy_path)


def validate(path):
    """(exit code, output) of validate.py on `path`."""
    try:
        done = subprocess.run(['/usr/bin/python3', VALIDATOR, path], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return -1, str(err)
    return done.returncode, (done.stdout + done.stderr).strip()


def read_lines(path):
    try:
        with open(path) as handle:
            return [line for line in handle.read().splitlines() if line.strip()]
    except OSError:
        return []


def check_reports(f, s, reported):
    """`reported`: {address: (dpid, port)} of the subscribers that must have a report."""
    report, command_out = paths(f.log_dir, 'isp')
    deadline = time.time() + WAIT
    lines, delivered = [], []
    while time.time() < deadline:
        lines, delivered = read_lines(report), read_lines(command_out)
        if len(lines) >= len(reported) and len(delivered) >= len(lines):
            break
        time.sleep(0.2)
    by_source = {}
    for line in lines:
        try:
            entry = json.loads(line)
            by_source[str(entry.get('source_identifier'))] = entry
        except ValueError:
            pass
    for address, (dpid, port) in sorted(reported.items()):
        entry = by_source.get(address) or {}
        op25b = (entry.get('_internal') or {}).get('op25b') or {}
        want_switch = '00:00:00:00:00:00:00:%02x' % dpid
        observed = ('%s/%s switch=%s port=%s prefix=%s' % (
            entry.get('category'), entry.get('type'), op25b.get('switch'), op25b.get('port'),
            op25b.get('source_prefix')) if entry else 'no report (%d lines)' % len(lines))
        prefix_ok = (':' not in address) or str(op25b.get('source_prefix', '')).endswith('/64')
        f.check(s, 'X-ARF v4 report for %s' % address, 'infrastructure/botnet switch=%s port=%d' % (want_switch, port),
                observed, entry.get('category') == 'infrastructure' and entry.get('type') == 'botnet'
                and op25b.get('switch') == want_switch and op25b.get('port') == port and prefix_ok)
    code, out = validate(report)
    f.check(s, 'every report line validates (xarf-v4-master.json)', 'exit 0 VALID: %d' % len(lines),
            'exit %d %s' % (code, out.splitlines()[-1] if out else ''), code == 0 and bool(lines))
    f.check(s, 'report_command got every report on stdin', '%d identical lines' % len(lines),
            '%d lines, %s' % (len(delivered), 'identical' if delivered == lines else 'DIFFERENT'),
            bool(lines) and delivered == lines)
    code, out = validate(command_out)
    f.check(s, 'report_command output validates (xarf-v4-master.json)', 'exit 0',
            'exit %d %s' % (code, out.splitlines()[-1] if out else ''), code == 0 and bool(delivered))
    control_refused(f, s, lines)


def control_refused(f, s, lines):
    """The validator is not a rubber stamp: a real report without compromise_evidence fails."""
    broken_path = os.path.join(f.log_dir, 'isp-report-broken.jsonl')
    observed, passed = 'no report to break', False
    if lines:
        broken = json.loads(lines[0])
        broken.pop('compromise_evidence', None)
        with open(broken_path, 'w') as handle:
            handle.write(json.dumps(broken) + '\n')
        code, out = validate(broken_path)
        passed = code == 1 and "'compromise_evidence' is a required property" in out
        observed = 'exit %d %s' % (code, out.splitlines()[0] if out else '')
    f.check(s, 'validator refuses a report without compromise_evidence', 'exit 1, names the field',
            observed, passed)
