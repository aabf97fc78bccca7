#!/usr/bin/python3
"""Validates every line of a JSON-lines file of X-ARF v4 reports against xarf-v4-master.json.

  /usr/bin/python3 tests/data/xarf-v4/validate.py REPORTS.jsonl

Schemas come from the schemas/v4/ folder next to this script, loaded into a RefResolver store
keyed by each schema's $id: nothing is fetched from the network. Formats are checked with
jsonschema's FormatChecker. Exit 0 with `VALID: N report(s)`; exit 1 with one
`LINE n: path - message` per error; exit 2 when the file is missing, unreadable or has no
report at all. Written for Debian's python3-jsonschema 4.10 (newer releases run it too, with a
deprecation warning for RefResolver).
"""

import json
import pathlib
import sys
import warnings

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

HERE = pathlib.Path(__file__).resolve().parent
MASTER_ID = 'https://xarf.org/schemas/v4/xarf-v4-master.json'


def validator():
    store = {}
    for path in sorted((HERE / 'schemas' / 'v4').rglob('*.json')):
        schema = json.loads(path.read_text(encoding='utf-8'))
        store[schema['$id']] = schema
    master = store[MASTER_ID]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        resolver = RefResolver.from_schema(master, store=store)
    return Draft202012Validator(master, resolver=resolver, format_checker=FormatChecker())


def main(argv):
    if len(argv) != 2:
        print('usage: validate.py REPORTS.jsonl', file=sys.stderr)
        return 2
    try:
        text = pathlib.Path(argv[1]).read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as err:
        print('cannot read %s: %s' % (argv[1], err))
        return 2
    check = validator()
    reports = 0
    problems = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        reports += 1
        try:
            report = json.loads(line)
        except ValueError as err:
            print('LINE %d: not JSON: %s' % (number, err))
            problems += 1
            continue
        if not isinstance(report, dict):
            print('LINE %d: not a JSON object' % number)
            problems += 1
            continue
        for error in sorted(check.iter_errors(report), key=lambda e: list(e.absolute_path)):
            where = '/'.join(str(p) for p in error.absolute_path) or '(root)'
            print('LINE %d: %s - %s' % (number, where, error.message[:300]))
            problems += 1
    if reports == 0:
        print('no report in %s' % argv[1])
        return 2
    if problems:
        print('INVALID: %d error(s) in %d report(s)' % (problems, reports))
        return 1
    print('VALID: %d report(s)' % reports)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
