#!/usr/bin/env python3
"""Fails, naming file and line, on an #include "..." that points up or sideways
against the order declared in cmake/layers.txt (DESIGN §10).

Usage: layering_test.py SOURCE_ROOT      check the tree
       layering_test.py --self-test      plant wrong includes in a scratch tree
                                         and check that each one is caught
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_EXT = ('.h', '.cc', '.cpp', '.hpp')
SKIP_DIRS = {'.git', 'third_party', 'run', 'node_modules'}


def load_layers(path):
    direct = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            unit, _, deps = line.partition(':')
            if not _:
                raise SystemExit(f'{path}:{n}: expected "unit: deps"')
            direct[unit.strip()] = deps.split()
    for unit, deps in direct.items():
        for d in deps:
            if d not in direct:
                raise SystemExit(f'{path}: {unit} names unknown unit {d}')
    allowed = {}

    def closure(unit, seen=()):
        if unit in seen:
            raise SystemExit(f'{path}: cycle through {unit}')
        if unit not in allowed:
            acc = {unit}
            for d in direct[unit]:
                acc |= closure(d, seen + (unit,))
            allowed[unit] = acc
        return allowed[unit]

    for unit in direct:
        closure(unit)
    return allowed


def unit_of(rel, units):
    best = None
    for u in units:
        # A folder, or one file's stem (routing/client_contract: its .h,
        # .cc and _test.cc), is a unit.
        rest = rel[len(u):] if rel.startswith(u) else None
        if rest is not None and (rest == '' or rest.startswith('/') or
                                 (rest[0] in '._' and '/' not in rest)):
            if best is None or len(u) > len(best):
                best = u
    return best


def check(root, allowed):
    """Returns a list of 'file:line: message' for every wrong include."""
    problems = []
    units = list(allowed)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and not d.startswith('build'))
        for name in sorted(filenames):
            if not name.endswith(SOURCE_EXT):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            src_unit = unit_of(rel, units)
            with open(path, errors='replace') as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if '/' not in target:
                        continue  # a file beside this one
                    dst_unit = unit_of(target, units)
                    if src_unit is None:
                        problems.append(f'{rel}:{n}: file is in no unit of cmake/layers.txt')
                        break
                    if dst_unit is None:
                        problems.append(f'{rel}:{n}: includes "{target}", which is in no unit of cmake/layers.txt')
                    elif dst_unit not in allowed[src_unit]:
                        problems.append(f'{rel}:{n}: {src_unit} may not include "{target}" ({dst_unit}): '
                                        f'it points up or sideways; see cmake/layers.txt')
    return problems


def self_test(allowed):
    planted = {
        'core/base/planted_up.cc': '#include "core/api/frontend.h"\n',           # up
        'core/read/planted_side.cc': '#include "core/archive/archiver.h"\n',    # up one
        'replication/planted_ops.cc': '#include "replication/ops/drill.h"\n',   # into ops
        'core/model/planted_core_role.cc': '#include "replication/room_state.h"\n',  # core knows no roles
        'monitoring/planted_side.cc': '#include "replication/heartbeat.h"\n',  # sideways
        'routing/client_contract_planted.cc': '#include "routing/router.h"\n',  # a file-stem unit, up
        'bench/loadgen/planted_core.cc': '#include "core/base/status.h"\n',  # the client links no core
    }
    ok_files = {
        'core/api/fine.cc': '#include "core/base/status.h"\n#include "core/api/frontend.h"\n',
        'replication/ops/fine.cc': '#include "replication/room_state.h"\n#include "core/base/log.h"\n',
        'bench/loadgen/fine.cc': '#include "routing/client_contract.h"\n',
        'routing/fine.cc': '#include "routing/client_contract.h"\n#include "core/api/frontend.h"\n',
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in {**planted, **ok_files}.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), 'w') as f:
                f.write(text)
        problems = check(tmp, allowed)
    failed = False
    for rel in planted:
        if not any(p.startswith(rel + ':1:') for p in problems):
            print(f'self-test: planted wrong include in {rel} was not reported')
            failed = True
    for rel in ok_files:
        hit = [p for p in problems if p.startswith(rel + ':')]
        if hit:
            print(f'self-test: allowed include reported: {hit}')
            failed = True
    for p in problems:
        print(f'self-test caught: {p}')
    return not failed


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    allowed = load_layers(os.path.join(here, 'layers.txt'))
    if sys.argv[1:] == ['--self-test']:
        ok = self_test(allowed)
        print('layering self-test:', 'ok' if ok else 'FAILED')
        return 0 if ok else 1
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    problems = check(sys.argv[1], allowed)
    for p in problems:
        print(p)
    print(f'layering: {len(problems)} wrong include(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
