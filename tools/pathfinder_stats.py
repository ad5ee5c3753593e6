#!/usr/bin/env python3
"""Per-class statistics and contact sheets of Pathfinder images.

Reads a folder of 8-bit grayscale PNGs with labels, in either layout:
  - `labels.txt` lines "sample_<i>.png <label>" (what `pathfinder_tool render`
    and `lra data render` write), or
  - LRA's official layout: metadata/*.npy (text lines or numpy arrays whose
    rows are [subfolder, file name, index, label, ...]) beside imgs/<n>/
    (what the official generator and `pathfinder_tool export` write).

Usage:
  pathfinder_stats.py stats DIR [DIR ...] [--names a,b] [--limit N] [--markdown]
  pathfinder_stats.py sheet DIR OUT.png [--per_class 16] [--columns 8] [--scale 3]

Statistics (mean over images of each class; only numpy and PIL are needed).
A pixel is *lit* when its value is at least LIT (32 of 255).
  ink         mean pixel value (0..255).
  lit         share of lit pixels.
  markers     marker blobs: lit pixels that survive a 3 x 3 opening (a disc
              of radius 1.5 or more survives, a one-pixel stroke does not);
              `marker px` is their pixel count per marker.
  contours    connected groups of stroke pixels (lit, outside the markers)
              after a 3 x 3 closing bridges the gaps between dashes;
              groups under MIN_CONTOUR_PX skeleton pixels are dropped.
  closed      share of contours whose closed shape encloses a hole (a
              background region not connected to the border), i.e. loops.
  length      skeleton pixels of a contour (Zhang-Suen thinning of its
              closed shape): its length in pixels.
  dash / gap  along the skeleton: mean run of pixels lit in the image (a
              dash) and of pixels not lit (a gap), counted as skeleton
              pixels per 8-connected run.
  stroke      mean value of lit stroke pixels (outside the markers), and
              `stroke max`, the mean of each contour's brightest pixel.
"""

import argparse
import glob
import os
import sys

import numpy as np
from PIL import Image

LIT = 32
MIN_CONTOUR_PX = 3

# ---------------------------------------------------------------------------
# Reading.


def read_folder(folder, limit=0):
  """Returns a list of (image uint8 [h, w], label) from `folder`."""
  items = []
  labels_txt = os.path.join(folder, 'labels.txt')
  if os.path.exists(labels_txt):
    with open(labels_txt) as f:
      for line in f:
        parts = line.split()
        if len(parts) >= 2:
          items.append((os.path.join(folder, parts[0]), int(parts[1])))
  else:
    metas = sorted(
        glob.glob(os.path.join(folder, 'metadata', '*.npy')),
        key=lambda p: int(''.join(c for c in os.path.basename(p) if c.isdigit())
                          or 0))
    if not metas:
      sys.exit('%s: neither labels.txt nor metadata/*.npy' % folder)
    for meta in metas:
      rows = []
      try:
        array = np.load(meta, allow_pickle=True)
        rows = [[str(x) for x in row] for row in array]
      except (ValueError, OSError):
        with open(meta) as f:
          rows = [line.split() for line in f if line.strip()]
      for row in rows:
        items.append((os.path.join(folder, row[0], row[1]), int(row[3])))
  if limit > 0:
    items = items[:limit]
  out = []
  for path, label in items:
    image = np.array(Image.open(path).convert('L'))
    out.append((image, label))
  return out


# ---------------------------------------------------------------------------
# Morphology on boolean images (numpy only).


def _shift(mask, dy, dx, fill=False):
  out = np.full_like(mask, fill)
  h, w = mask.shape
  ys = slice(max(dy, 0), h + min(dy, 0))
  xs = slice(max(dx, 0), w + min(dx, 0))
  yd = slice(max(-dy, 0), h + min(-dy, 0))
  xd = slice(max(-dx, 0), w + min(-dx, 0))
  out[ys, xs] = mask[yd, xd]
  return out


_NEIGHBOURS8 = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                if (dy, dx) != (0, 0)]


def dilate(mask):
  out = mask.copy()
  for dy, dx in _NEIGHBOURS8:
    out |= _shift(mask, dy, dx)
  return out


def erode(mask):
  out = mask.copy()
  for dy, dx in _NEIGHBOURS8:
    out &= _shift(mask, dy, dx, fill=False)
  return out


def label_components(mask, connectivity=8):
  """Connected components: (labels int [h, w], 0 = background, count)."""
  h, w = mask.shape
  labels = np.where(mask, np.arange(1, h * w + 1).reshape(h, w), 0)
  big = h * w + 1
  offsets = _NEIGHBOURS8 if connectivity == 8 else [(-1, 0), (1, 0), (0, -1),
                                                    (0, 1)]
  while True:
    spread = np.where(mask, labels, big)
    best = spread.copy()
    for dy, dx in offsets:
      best = np.minimum(best, _shift(spread, dy, dx, fill=big))
    best = np.where(mask, best, 0)
    if np.array_equal(best, labels):
      break
    labels = best
  unique = np.unique(labels[labels > 0])
  remap = np.zeros(big + 1, dtype=np.int64)
  remap[unique] = np.arange(1, len(unique) + 1)
  return remap[labels], len(unique)


def thin(mask):
  """Zhang-Suen thinning of a boolean image."""
  image = np.pad(mask.astype(np.uint8), 1)
  changed = True
  while changed:
    changed = False
    for step in range(2):
      p = image
      # Neighbours P2..P9 clockwise from north.
      n = [np.roll(np.roll(p, -dy, 0), -dx, 1) for dy, dx in
           [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1),
            (-1, -1)]]
      b = sum(n)
      a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.uint8)
              for i in range(8))
      if step == 0:
        c1 = n[0] * n[2] * n[4]
        c2 = n[2] * n[4] * n[6]
      else:
        c1 = n[0] * n[2] * n[6]
        c2 = n[0] * n[4] * n[6]
      remove = (p == 1) & (b >= 2) & (b <= 6) & (a == 1) & (c1 == 0) & (c2 == 0)
      if remove.any():
        image = np.where(remove, 0, image).astype(np.uint8)
        changed = True
  return image[1:-1, 1:-1].astype(bool)


def has_hole(shape):
  """True when the background of `shape` has a region off the border."""
  background = ~shape
  labels, count = label_components(background, connectivity=4)
  if count == 0:
    return False
  border = set(np.unique(np.concatenate(
      [labels[0], labels[-1], labels[:, 0], labels[:, -1]]))) - {0}
  return count > len(border)


# ---------------------------------------------------------------------------
# Statistics of one image.


def image_stats(image):
  lit = image >= LIT
  markers = dilate(erode(lit)) & lit
  marker_labels, marker_count = label_components(markers)
  strokes = lit & ~dilate(markers)
  closed = dilate(strokes)
  closed = erode(closed) | strokes
  labels, count = label_components(closed)
  s = {
      'ink': float(image.mean()),
      'lit': float(lit.mean()),
      'markers': marker_count,
      'marker_px': (float(markers.sum()) / marker_count
                    if marker_count else np.nan),
  }
  contours = 0
  loops = 0
  lengths, dashes, gaps, maxima = [], [], [], []
  for c in range(1, count + 1):
    shape = labels == c
    skeleton = thin(shape)
    if skeleton.sum() < MIN_CONTOUR_PX:
      continue
    contours += 1
    loops += has_hole(shape)
    lengths.append(float(skeleton.sum()))
    on = skeleton & lit
    off = skeleton & ~lit
    _, on_runs = label_components(on)
    _, off_runs = label_components(off)
    if on_runs:
      dashes.append(on.sum() / on_runs)
    if off_runs:
      gaps.append(off.sum() / off_runs)
    maxima.append(float(image[shape & strokes].max())
                  if (shape & strokes).any() else np.nan)
  s['contours'] = contours
  s['closed'] = loops / contours if contours else np.nan
  s['length'] = float(np.mean(lengths)) if lengths else np.nan
  s['dash'] = float(np.mean(dashes)) if dashes else np.nan
  s['gap'] = float(np.mean(gaps)) if gaps else np.nan
  s['stroke'] = float(image[strokes].mean()) if strokes.any() else np.nan
  s['stroke_max'] = float(np.nanmean(maxima)) if maxima else np.nan
  return s


COLUMNS = [('ink', 'ink', '%.1f'), ('lit', 'lit', '%.3f'),
           ('contours', 'contours', '%.2f'), ('closed', 'closed', '%.2f'),
           ('length', 'length px', '%.1f'), ('dash', 'dash', '%.2f'),
           ('gap', 'gap', '%.2f'), ('stroke', 'stroke', '%.0f'),
           ('stroke_max', 'stroke max', '%.0f'),
           ('markers', 'markers', '%.2f'), ('marker_px', 'marker px', '%.1f')]


def class_stats(items):
  """{label: {stat: mean}} plus label 'all'."""
  per = {}
  for image, label in items:
    per.setdefault(label, []).append(image_stats(image))
  per['all'] = [s for label in list(per) for s in per[label]]
  out = {}
  for label, rows in per.items():
    out[label] = {key: float(np.nanmean([r[key] for r in rows]))
                  for key, _, _ in COLUMNS}
    out[label]['n'] = len(rows)
  return out


def print_table(names, results, markdown):
  header = ['data', 'class', 'n'] + [title for _, title, _ in COLUMNS]
  rows = []
  for name, result in zip(names, results):
    for label in [0, 1, 'all']:
      if label not in result:
        continue
      r = result[label]
      rows.append([name, str(label), str(r['n'])] +
                  [fmt % r[key] for key, _, fmt in COLUMNS])
  if markdown:
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    for row in rows:
      print('| ' + ' | '.join(row) + ' |')
  else:
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
      print('  '.join(x.rjust(w) for x, w in zip(row, widths)))


# ---------------------------------------------------------------------------
# Contact sheet.


def write_sheet(items, path, per_class, columns, scale):
  """Rows of `columns` images, first label 0 then label 1, each framed:
  orange for 0 (not connected), blue for 1 (connected)."""
  colours = {0: (230, 140, 20), 1: (40, 110, 230)}
  chosen = []
  for label in (0, 1):
    chosen += [(im, l) for im, l in items if l == label][:per_class]
  if not chosen:
    sys.exit('no images')
  h, w = chosen[0][0].shape
  frame = 2
  cell_h, cell_w = h * scale + 2 * frame, w * scale + 2 * frame
  rows = (len(chosen) + columns - 1) // columns
  sheet = np.full((rows * (cell_h + 2), columns * (cell_w + 2), 3), 255,
                  dtype=np.uint8)
  for i, (image, label) in enumerate(chosen):
    r, c = divmod(i, columns)
    y, x = r * (cell_h + 2), c * (cell_w + 2)
    sheet[y:y + cell_h, x:x + cell_w] = colours.get(label, (128, 128, 128))
    big = np.kron(image, np.ones((scale, scale), dtype=np.uint8))
    sheet[y + frame:y + frame + h * scale,
          x + frame:x + frame + w * scale] = big[..., None]
  Image.fromarray(sheet).save(path, optimize=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawTextHelpFormatter)
  sub = parser.add_subparsers(dest='command', required=True)
  p = sub.add_parser('stats')
  p.add_argument('dirs', nargs='+')
  p.add_argument('--names', default='')
  p.add_argument('--limit', type=int, default=0)
  p.add_argument('--markdown', action='store_true')
  q = sub.add_parser('sheet')
  q.add_argument('dir')
  q.add_argument('out')
  q.add_argument('--per_class', type=int, default=16)
  q.add_argument('--columns', type=int, default=8)
  q.add_argument('--scale', type=int, default=3)
  args = parser.parse_args()
  if args.command == 'stats':
    names = args.names.split(',') if args.names else args.dirs
    results = [class_stats(read_folder(d, args.limit)) for d in args.dirs]
    print_table(names, results, args.markdown)
  else:
    write_sheet(read_folder(args.dir), args.out, args.per_class, args.columns,
                args.scale)


if __name__ == '__main__':
  main()
