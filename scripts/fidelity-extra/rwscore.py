# Scores `CMD URL` dumps against refs/ with the shared scorer's normalization and LCS.
import importlib.machinery, importlib.util, subprocess, sys, os
loader = importlib.machinery.SourceFileLoader('score', '/work/shared/fidelity/score')
spec = importlib.util.spec_from_loader('score', loader); score = importlib.util.module_from_spec(spec); loader.exec_module(score)
cmd = sys.argv[1] if len(sys.argv) > 1 else '/work/main/target/release/minibrowse --dump {}'
only = sys.argv[2] if len(sys.argv) > 2 else ''
os.makedirs('dumps', exist_ok=True)
rows = []
for path in open('pages.txt').read().split():
    if only not in path: continue
    ref = open('refs/' + path.replace('/', '__') + '.txt').read()
    url = 'http://127.0.0.1:8731/' + path
    r = subprocess.run(cmd.replace('{}', url), shell=True, capture_output=True, timeout=60)
    out = r.stdout.decode('utf-8', 'replace')
    open('dumps/' + path.replace('/', '__') + '.txt', 'w').write(out)
    n, p, rc, f = score.prf(score.words(out), score.words(ref))
    rows.append((path, p, rc, f))
    print(f'{f:.3f} p={p:.3f} r={rc:.3f} {path}')
import statistics
for group in ['cpp/', 'node/', 'dh/']:
    fs = [r[3] for r in rows if r[0].startswith(group)]
    if fs: print(group, 'mean F1 %.3f' % statistics.mean(fs), 'p %.3f' % statistics.mean(r[1] for r in rows if r[0].startswith(group)), 'r %.3f' % statistics.mean(r[2] for r in rows if r[0].startswith(group)))
print('all mean F1 %.3f' % statistics.mean(r[3] for r in rows))
