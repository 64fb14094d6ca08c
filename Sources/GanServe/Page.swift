/// GET /: one self-contained HTML document with a little plain JavaScript, talking only to its own
/// origin (no CDN: boards are often offline). The element ids are what tools/test-browser.py drives.
enum Page {
  static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gan-serve</title>
<link rel="icon" href="data:,">
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #f6f6f4; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  .bar { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin: .8rem 0; }
  button, input, select { font: inherit; padding: .25rem .6rem; }
  #grid { display: grid; grid-template-columns: repeat(8, 96px); gap: 6px; }
  #grid img, #kept img { width: 96px; height: 96px; image-rendering: pixelated; cursor: pointer;
                         border: 3px solid transparent; background: #ddd; }
  #grid img.kept { border-color: #d2691e; }
  #kept { display: flex; flex-wrap: wrap; gap: 6px; min-height: 30px; }
  #kept img { width: 64px; height: 64px; }
  #strip { image-rendering: pixelated; max-width: 100%; }
  #frame { width: 192px; height: 192px; image-rendering: pixelated; background: #ddd; }
  .muted { color: #777; font-size: .9rem; }
</style>
</head>
<body>
<h1>gan-serve</h1>
<div class="muted" id="model">loading the model description...</div>
<div class="bar">
  <button id="new-faces">New faces</button>
  <label>Seed <input id="seed" type="number" min="0" step="1" value="0" style="width:9rem"></label>
  <label id="class-label" hidden>Class <select id="class"></select></label>
  <a id="download" href="#" download="faces.png"><button type="button">Download grid</button></a>
  <span class="muted" id="status"></span>
</div>
<div id="grid"></div>
<h2 style="font-size:1.05rem">Kept <span class="muted">(click a face to keep it; the first two kept are A and B)</span></h2>
<div id="kept"></div>
<h2 style="font-size:1.05rem">From A to B</h2>
<div><img id="strip" alt="interpolation strip"></div>
<div class="bar">
  <input id="slider" type="range" min="0" max="8" value="0" style="width:20rem">
  <img id="frame" alt="interpolation frame">
</div>
<script>
"use strict";
const COUNT = 16, STEPS = 9;
const gridEl = document.getElementById("grid"), seedEl = document.getElementById("seed");
const keptEl = document.getElementById("kept"), statusEl = document.getElementById("status");
const sliderEl = document.getElementById("slider"), frameEl = document.getElementById("frame");
const stripEl = document.getElementById("strip"), classEl = document.getElementById("class");
let kept = [];  // "seed:index" names

function classQuery() { return classEl.value === "" ? "" : "&class=" + classEl.value; }
function imageURL(name) {
  const [s, i] = name.split(":");
  return "/image.png?seed=" + s + "&index=" + i + classQuery();
}
function ends() {
  const s = seedEl.value || "0";
  const a = kept[0] || s + ":0", b = kept[1] || s + ":1";
  return "from=" + a + "&to=" + b + "&steps=" + STEPS + "&mode=slerp" + classQuery();
}
function showInterpolation() {
  stripEl.src = "/interpolate.png?" + ends();
  frameEl.src = "/interpolate.png?" + ends() + "&frame=" + sliderEl.value;
}
function showGrid() {
  const seed = seedEl.value || "0";
  gridEl.textContent = "";
  let loaded = 0;
  statusEl.textContent = "generating...";
  for (let i = 0; i < COUNT; i++) {
    const img = document.createElement("img");
    const name = seed + ":" + i;
    img.className = "face" + (kept.includes(name) ? " kept" : "");
    img.dataset.name = name;
    img.alt = "image " + name;
    img.onload = img.onerror = () => { if (++loaded === COUNT) statusEl.textContent = "seed " + seed; };
    img.onclick = () => toggleKeep(name);
    img.src = imageURL(name);
    gridEl.appendChild(img);
  }
  document.getElementById("download").href = "/grid.png?seed=" + seed + "&count=" + COUNT + "&columns=8" +
                                             classQuery();
  showInterpolation();
}
function toggleKeep(name) {
  kept = kept.includes(name) ? kept.filter(k => k !== name) : kept.concat([name]);
  renderKept();
}
function renderKept() {
  keptEl.textContent = "";
  for (const k of kept) {
    const img = document.createElement("img");
    img.src = imageURL(k); img.alt = "kept " + k; img.title = k + " (click to drop)";
    img.onclick = () => toggleKeep(k);
    keptEl.appendChild(img);
  }
  for (const img of gridEl.querySelectorAll("img.face")) img.classList.toggle("kept", kept.includes(img.dataset.name));
  showInterpolation();
}
function randomSeed() { const a = new Uint32Array(1); crypto.getRandomValues(a); return a[0]; }
document.getElementById("new-faces").onclick = () => { seedEl.value = randomSeed(); showGrid(); };
seedEl.onchange = showGrid;
classEl.onchange = () => { kept = []; renderKept(); showGrid(); };
sliderEl.max = STEPS - 1;
sliderEl.oninput = () => { frameEl.src = "/interpolate.png?" + ends() + "&frame=" + sliderEl.value; };
fetch("/model").then(r => r.json()).then(m => {
  const a = m.architecture;
  document.getElementById("model").textContent = m.dtype + " DCGAN, " + m.imageSize + " px, " +
    (m.channels === 3 ? "RGB" : "gray") + ", nz " + a.nz + ", batches up to " + m.maxBatch;
  if (m.classes.length > 0) {
    document.getElementById("class-label").hidden = false;
    m.classes.forEach((c, k) => { const o = document.createElement("option"); o.value = k; o.textContent = c;
                                  classEl.appendChild(o); });
  }
  showGrid();
}).catch(e => { statusEl.textContent = "cannot read /model: " + e; });
</script>
</body>
</html>
"""#
}
