# innerText of each page in headless Chromium, JavaScript off, 1000 px wide (as the fidelity refs).
import os, sys
from playwright.sync_api import sync_playwright
pages = open('pages.txt').read().split()
os.makedirs('refs', exist_ok=True)
JS = """() => { for (const s of document.querySelectorAll('select')) { const o = s.options[s.selectedIndex];
  const span = document.createElement('span'); span.textContent = o ? o.text : ''; s.replaceWith(span); }
  return document.body ? document.body.innerText : ''; }"""
with sync_playwright() as p:
    b = p.chromium.launch(executable_path='/usr/bin/chromium', args=['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync'])
    ctx = b.new_context(java_script_enabled=False, viewport={'width':1000,'height':800})
    page = ctx.new_page()
    for path in pages:
        try:
            page.goto('http://127.0.0.1:8731/' + path, wait_until='load', timeout=20000)
            open('refs/' + path.replace('/', '__') + '.txt', 'w').write(page.evaluate(JS))
        except Exception as e:
            print(path, e, file=sys.stderr)
    b.close()
