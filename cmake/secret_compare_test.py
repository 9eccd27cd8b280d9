#!/usr/bin/env python3
"""Fails, naming file and line, where C++ code compares a secret (a bearer
token, an admin token, a MAC, a secret) with == or != instead of
core::ConstantTimeEquals / core::BearerTokenMatches (core/base/secret_compare.h):
an == stops at the first wrong byte, so its timing tells a guesser how much
of the guess was right.

Usage: secret_compare_test.py SOURCE_ROOT   check the tree
       secret_compare_test.py --self-test   check that planted compares are caught
"""
import os
import re
import sys

SOURCE_EXT = ('.h', '.cc', '.cpp', '.hpp')
SKIP_DIRS = {'.git', 'third_party', 'run', 'node_modules', 'build', 'build-asan'}
SECRET = r'\w*(?:token|secret|mac|password)\w*'
PATTERNS = [
    re.compile(r'(?:==|!=)\s*"Bearer '),                      # x == "Bearer " + t
    re.compile(r'"Bearer "\s*\+\s*\w+\s*(?:==|!=)'),          # "Bearer " + t == x
    re.compile(r'\b' + SECRET + r'\s*(?:==|!=)(?!\s*(?:nullptr|0\b|\'|""))', re.I),
    re.compile(r'(?:==|!=)\s*' + SECRET + r'\b(?!\s*[.(\[])', re.I),
]
ALLOW = re.compile(r'secret-compare: ok')  # a line that compares no secret


def problems(path, text):
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split('//', 1)[0]
        if ALLOW.search(line) or not code.strip():
            continue
        if any(p.search(code) for p in PATTERNS):
            out.append(f'{path}:{n}: secret compared with ==/!= (use core::ConstantTimeEquals): {line.strip()}')
    return out


def check(root):
    found = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith('build')]
        for f in files:
            if f.endswith(SOURCE_EXT) and not f.endswith('_test.cc'):
                p = os.path.join(dirpath, f)
                with open(p, errors='replace') as fh:
                    found += problems(os.path.relpath(p, root), fh.read())
    return found


def self_test():
    bad = [
        'if (got != "Bearer " + token_) return 401;',
        'return req.Header("authorization") == "Bearer " + admin_token_;',
        'return "Bearer " + token == header;',
        'if (mac == expected) ok();',
        'bool ok = given_secret != secret_;',
        'if (header == admin_token) {',
    ]
    good = [
        'return BearerTokenMatches(got, token_);',
        'if (token.empty() || token.size() != 32) return;',
        'if (secret == nullptr) return;',
        'if (tokens.size() == 0) return;',
        'if (token_file != "") load();',
        'c.headers["Authorization"] = "Bearer " + token_;',
    ]
    failed = [b for b in bad if not problems('x.cc', b)] + [g for g in good if problems('x.cc', g)]
    for f in failed:
        print('self-test: misjudged:', f)
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    found = check(sys.argv[1])
    for f in found:
        print(f)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
