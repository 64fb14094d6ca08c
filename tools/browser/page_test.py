"""gan-serve's page in a real browser: Debian's headless Chromium, driven by chromedriver
(python3-selenium), against a gan-serve on a loopback port.

Checks: the grid's 16 images load and decode (naturalWidth = the model's size); "New faces" gives a
new seed whose images load and whose pixels differ; clicking a face keeps it; moving the
interpolation slider loads a different frame. Saves a screenshot. Prints FAIL lines and ends
with "N passed, N failed".

usage: page_test.py GAN_SERVE MODEL OUTPUT_DIR
"""
import os
import re
import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

serve, model, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok: " + name)
    else:
        failed += 1
        print("FAIL: " + name + (": " + str(detail) if detail else ""))


# A digest of an <img>'s decoded pixels (same origin, so the canvas is readable), or null if it
# has not decoded.
DIGEST = """
const img = arguments[0];
if (!img.complete || img.naturalWidth === 0) return null;
const c = document.createElement("canvas");
c.width = img.naturalWidth; c.height = img.naturalHeight;
const g = c.getContext("2d"); g.drawImage(img, 0, 0);
const d = g.getImageData(0, 0, c.width, c.height).data;
let h = 2166136261;
for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619) >>> 0; }
return [img.naturalWidth, img.naturalHeight, h];
"""

proc = subprocess.Popen([serve, "--model", model, "--port", "0", "--threads", "2"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
port = None
deadline = time.time() + 30
while time.time() < deadline:
    line = proc.stdout.readline()
    if not line:
        break
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
    if m:
        port = int(m.group(1))
        break
if port is None:
    proc.kill()
    check("gan-serve started on a loopback port", False, "no 'listening on' line within 30 s")
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1)
base = "http://127.0.0.1:%d/" % port

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--window-size=1100,1000", "--no-first-run", "--disable-extensions"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)
try:
    driver.get(base)
    wait = WebDriverWait(driver, 60, poll_frequency=0.1)

    def grid_digests(_=None):
        faces = driver.find_elements(By.CSS_SELECTOR, "#grid img.face")
        if len(faces) != 16:
            return None
        digests = [driver.execute_script(DIGEST, f) for f in faces]
        return digests if all(digests) else None

    size = driver.execute_script("return fetch('/model').then(r => r.json()).then(m => m.imageSize)")
    first = wait.until(grid_digests)
    check("16 grid images decoded at the model's size",
          all(d[0] == size and d[1] == size for d in first), first[:2])
    check("the 16 images differ from each other", len(set(d[2] for d in first)) == 16)
    seed0 = driver.find_element(By.ID, "seed").get_attribute("value")

    driver.find_element(By.ID, "new-faces").click()
    wait.until(lambda _: driver.find_element(By.ID, "seed").get_attribute("value") != seed0)
    seed1 = driver.find_element(By.ID, "seed").get_attribute("value")
    second = wait.until(lambda _: (lambda d: d if d and d != first else None)(grid_digests()))
    check("'New faces' chose a new seed", seed1 != seed0, (seed0, seed1))
    check("'New faces' images decoded", all(d[0] == size for d in second))
    check("'New faces' images changed", all(a[2] != b[2] for a, b in zip(first, second)))
    srcs = [f.get_attribute("src") for f in driver.find_elements(By.CSS_SELECTOR, "#grid img.face")]
    check("the grid asks for images of the new seed", all(("seed=%s&" % seed1) in s for s in srcs), srcs[:1])

    faces = driver.find_elements(By.CSS_SELECTOR, "#grid img.face")
    faces[3].click()
    faces[5].click()
    kept = wait.until(lambda _: (lambda k: k if len(k) == 2 else None)(
        driver.find_elements(By.CSS_SELECTOR, "#kept img")))
    check("clicking two faces keeps them", len(kept) == 2 and "kept" in faces[3].get_attribute("class"))

    frame = driver.find_element(By.ID, "frame")
    strip = driver.find_element(By.ID, "strip")
    wait.until(lambda _: "from=%s:3&to=%s:5" % (seed1, seed1) in frame.get_attribute("src")
               and driver.execute_script(DIGEST, frame))
    f0 = driver.execute_script(DIGEST, frame)
    s0 = wait.until(lambda _: driver.execute_script(DIGEST, strip))
    check("the strip runs from the first kept face to the second (9 frames)",
          "from=%s:3&to=%s:5" % (seed1, seed1) in strip.get_attribute("src")
          and s0[0] == 9 * (size + 2) + 2, (strip.get_attribute("src"), s0))
    slider = driver.find_element(By.ID, "slider")
    slider.click()
    slider.send_keys(Keys.END)
    wait.until(lambda _: frame.get_attribute("src").endswith("frame=8"))
    f8 = wait.until(lambda _: (lambda d: d if d and d != f0 else None)(driver.execute_script(DIGEST, frame)))
    check("moving the slider to the end loads frame 8, decoded and different from frame 0",
          f8[0] == size and f8[2] != f0[2], (f0, f8))
    start_face = driver.execute_script(DIGEST, faces[5])
    check("frame 8 is the second kept face", f8[2] == start_face[2], (f8, start_face))

    shot = os.path.join(out, "gan-serve-page.png")
    driver.save_screenshot(shot)
    check("screenshot saved", os.path.getsize(shot) > 10000, shot)
    print("screenshot: " + shot)
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    check("no errors in the browser console", not errors, errors[:3])
except Exception as e:  # a timeout or a driver failure is a failed check, not a crash
    check("browser session", False, "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
finally:
    driver.quit()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 else 1)
