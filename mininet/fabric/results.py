"""The results table: scenario | via | check | expected | observed | PASS/FAIL.

`via` is the transport the bridges reached the controller over while the check ran (tls1.3,
tls1.2, tcp; `-` without a controller), set by the runner per topology.
"""

import sys


class Results:
    """Collects check outcomes and prints them as a table and a final count."""

    def __init__(self):
        self.rows = []
        self.transport = '-'

    def record(self, scenario, check, expected, observed, passed):
        observed = ' '.join(str(observed).split())
        self.rows.append((scenario, check, expected, observed, bool(passed), self.transport))
        mark = 'PASS' if passed else 'FAIL'
        print('  [%s] %s (%s): %s (expected %s; observed %s)' % (mark, scenario, self.transport, check, expected,
                                                                  observed), flush=True)
        return bool(passed)

    @property
    def passed(self):
        return sum(1 for row in self.rows if row[4])

    @property
    def failed(self):
        return sum(1 for row in self.rows if not row[4])

    def print_table(self, out=sys.stdout):
        header = ('scenario', 'via', 'check', 'expected', 'observed', 'result')
        rows = [(s, via, c, e, o if len(o) <= 70 else o[:67] + '...', 'PASS' if ok else 'FAIL')
                for s, c, e, o, ok, via in self.rows]
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
                  for i in range(len(header))]
        line = ' | '.join(h.ljust(widths[i]) for i, h in enumerate(header))
        out.write(line + '\n')
        out.write('-+-'.join('-' * w for w in widths) + '\n')
        for row in rows:
            out.write(' | '.join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip() + '\n')
        out.write('%d passed, %d failed\n' % (self.passed, self.failed))
        out.flush()
