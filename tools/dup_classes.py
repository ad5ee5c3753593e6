#!/usr/bin/python3
"""Sorts the pairs of a duplicate-code scan into what they share.

Issue 9's bar: a scan of the tree lists no pair outside BUILD boilerplate
and declarative code. The scan (the workplace's `duplicates` command) also
pairs places that share only a shape: two plugin registrations, two proto
messages, two lists of includes and constants, two structs filled field by
field. This script reads the scan and puts every row into one class:

  boilerplate   the scan itself marks the row as thin or folder-wide
  build         both sides are BUILD files
  declarative   both sides are at least DECLARATIVE_SHARE declarations:
                includes, namespaces, constants, using-declarations, proto
                fields, struct members and field assignments, setters,
                plugin registrations (descriptions, parameter specs,
                capabilities), function declarations, string literals,
                test-case aggregates, test expectations
  reviewed      a `code` row whose two files tools/dup_reviewed.txt names,
                with the reason the shared lines stay (read again whenever
                either file changes)
  code          anything else: logic written twice, to be given one home

It prints the count per class and every `code` row with its lines, and
exits 1 when there is a `code` row (or when the scan's cut-off hides a row
that is not boilerplate), so it can serve as a check:

  duplicates --most 200 --seconds 120 | tools/dup_classes.py
  tools/dup_classes.py --verbose < scan.txt   # every row with its class
"""

import os
import re
import sys

DECLARATIVE_SHARE = 0.75

# A literal, a name or field chain, or one call whose arguments are such.
_ATOM = r'(-?[\d.]+[fFuUlL]*|"[^"]*"|\*?[\w.:]+(->\w+)*|\{[^;]*\})'
SIMPLE = (r'(' + _ATOM + r'|[\w.:]+(<[\w:, *]+>)?\((' + _ATOM +
          r'(, ' + _ATOM + r')*)?\))')

DECLARATIVE = [re.compile(p) for p in [
    r'^#',                                        # includes, guards
    r'^(namespace\b.*|\}\s*//.*|[{}]+[;,)]*)$',   # namespaces, braces
    r'^(inline |static )*constexpr ',             # constants
    r'^using ',                                   # using-declarations
    r'^(repeated |optional )?[\w.]+ \w+ = \d+( \[.*\])?;$',  # proto fields
    r'^(message|enum|oneof) \w+ \{$',
    # members and locals, given a literal, a name, a field or one call of
    # names and literals (no arithmetic: that is code)
    r'^[\w:<>,\[\] *&]+ \*?\w+( = ' + SIMPLE + r')?;$',
    r'^[\w\[\]]+((\.|->)\w+)+ = ' + SIMPLE + ';$',  # field assignments
    r'^\w+(\.|->)set_\w+\(.*\);$',                # proto setters
    r'^(plugin|spec)\.',                          # plugin registrations
    r'PluginParamSpec::',
    r'^"',                                        # string continuations
    r'^\{"',                                      # test-case aggregates
    r'^(EXPECT|ASSERT)_\w+\(.*',                  # test expectations
    r'^[\w:<>, *&]+ \w+\(.*\)( const)?( override)?;$',  # declarations
    r'^(absl::)?\w+(<.*>)?( const)?[&*]? \w+\($',  # declaration, wrapped
    r'^\w+\s*=\s*.*,$',                           # keyword arguments
    r'^\w+: [\w".+-]+$',                           # text-proto fields
    r'^\w+ \{ name: "\w+" \}$',
    r'^(dict\(|\),?$)',
    r'^[\w:]+ \w+;$',                             # a declared variable
    r'^(public|private|protected):$',
    r'^return \w+;$',
    r'^[\w.]+ = (\w+\()?absl::GetFlag\(',          # flags copied to options
    # a function's signature, declared or defined
    r'^[\w:<>, *&]+ [\w:]+\(.*\)( const)?( override)?( \{.*\})?;?$',
    r'^[\w:<>, *&]+ [\w:]+\(.*\)( const)? \{$',
    r'^[\w:]+::\w+\(.*\)$',                        # a constructor
    r'^: \w+_\(.*\)(, \w+_\(.*\))* \{$',           # its initialisers
    r'^\w+_ = [\w.]+;$',                           # members from fields
    r'^\w+ = carve\.Take\(.*\);$',                 # a scratch layout
    r'^(TEST|TEST_P|TEST_F)\(\w+, \w+\) \{$',       # test cases
    r'^class \w+ : public ::testing::\w+(<\w+>)? \{\};$',
    r'^const \w+ c = GetParam\(\);$',
    r'^const int \w+ = [\w.]+(, \w+ = [\w.]+)*;$',
    r'^static_assert\(',
    r'^ASSIGN_OR_RETURN\((const )?[\w:<>]+[*&]? \w+,',  # declares a variable
    # the start of a signature cut off by the end of the run
    r'^[\w:<>*& ]+ [\w:]+\((const )?[\w:<>]+[*&]? \w+[,)]',
]]


def is_comment(line):
  return line.startswith('//') or line.startswith('#!') or (
      line.startswith('# ') and not line.startswith('#include'))


def declarative_share(path, first, last):
  try:
    with open(path, encoding='utf-8') as f:
      lines = f.read().split('\n')[first - 1:last]
  except OSError:
    return 0.0, []
  kept = []
  pending = ''
  for l in lines:
    l = l.strip()
    if not l or is_comment(l):
      continue
    if '"' not in l:
      l = re.sub(r'\s+//.*$', '', l)  # a trailing comment
    pending = f'{pending} {l}' if pending else l
    depth = pending.count('(') - pending.count(')')
    if depth <= 0 or len(pending) > 1000:
      kept.append(pending)
      pending = ''
  if pending:
    kept.append(pending)
  if not kept:
    return 1.0, lines
  hits = sum(1 for l in kept if any(p.search(l) for p in DECLARATIVE))
  return hits / len(kept), lines


def reviewed_pairs():
  pairs = {}
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'dup_reviewed.txt')
  with open(path, encoding='utf-8') as f:
    for line in f:
      if line.strip() and not line.startswith('#'):
        files, reason = line.split(': ', 1)
        a, b = files.split(' ~ ')
        pairs[frozenset((a.strip(), b.strip()))] = reason.strip()
  return pairs


ROW = re.compile(r'^(D\d+) (\S+):(\d+)-(\d+) ~ (\S+):(\d+)-(\d+)(.*)$')


def main():
  verbose = '--verbose' in sys.argv[1:]
  text = sys.stdin.read()
  head = re.search(r'^(\d+) pairs of places.*?(\d+) of those marked '
                   r'boilerplate', text, re.M)
  more = re.search(r'^\(\+(\d+) more pairs\)', text, re.M)
  reviewed = reviewed_pairs()
  counts = {'boilerplate': 0, 'build': 0, 'declarative': 0, 'reviewed': 0,
            'code': 0}
  code_rows = []
  for line in text.split('\n'):
    m = ROW.match(line)
    if not m:
      continue
    rid, a, a0, a1, b, b0, b1, tail = m.groups()
    if 'boilerplate' in tail:
      cls = 'boilerplate'
    elif a.endswith(('BUILD.bazel', '.bzl')) and b.endswith(
        ('BUILD.bazel', '.bzl')):
      cls = 'build'
    else:
      sa, la = declarative_share(a, int(a0), int(a1))
      sb, lb = declarative_share(b, int(b0), int(b1))
      cls = 'declarative' if min(sa, sb) >= DECLARATIVE_SHARE else 'code'
      if cls == 'code' and frozenset((a, b)) in reviewed:
        cls = 'reviewed'
      if cls == 'code':
        code_rows.append((line, min(sa, sb), la))
    counts[cls] += 1
    if verbose:
      print(f'{cls:12} {line}')
  hidden = int(more.group(1)) if more else 0
  hidden_ok = True
  if head:
    total, marked = int(head.group(1)), int(head.group(2))
    # The scan lists boilerplate last, so a cut-off list hides only
    # boilerplate rows when the marked ones it did not show cover it.
    hidden_ok = hidden <= marked - counts['boilerplate']
    counts['boilerplate'] += hidden if hidden_ok else 0
    print(f'{total} pairs in the scan')
  for cls, n in counts.items():
    print(f'  {cls:12} {n}')
  if not hidden_ok:
    print(f'  {hidden} rows cut off by --most are not all boilerplate: '
          'raise --most')
  for line, share, lines in code_rows:
    print(f'\ncode ({share:.0%} declarative): {line}')
    for l in lines:
      print(f'    {l}')
  return 1 if code_rows or not hidden_ok else 0


if __name__ == '__main__':
  sys.exit(main())
