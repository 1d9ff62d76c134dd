// The listening test's player (vaesep/widgets/player.py): every clip of a trial plays at
// once, in sync, through its own gain; the "active" clip is audible, the others are
// silent. Switching fades the gains over a few ms, so the position is kept (as webMUSHRA
// does). All sources loop the same region, sample-exactly (AudioBufferSourceNode.loop).
// The root element carries data-position/-active/-playing/-loop for the browser test.
const FADE_S = 0.005; // switching fade, short enough to hear no gap or click
const LEAD_S = 0.02; // scheduling lead, so every source starts on the same sample

function render({ model, el }) {
  const ctx = new AudioContext();
  let buffers = {}; // clip name -> AudioBuffer
  let running = null; // {region, nodes: {name: {source, gain}}} while playing
  let anchor = { time: 0, offset: 0 }; // running: position `offset` at ctx time `time`
  let paused = 0; // position while not running
  let version = 0; // drops a decode that a newer set of clips made stale

  el.classList.add("vaesep-sync-player");
  el.innerHTML = `
    <button class="vaesep-toggle">Play</button>
    <span class="vaesep-time"></span>
    <div class="vaesep-bar" title="click to move the playhead">
      <div class="vaesep-region"></div><div class="vaesep-head"></div></div>
    <span>Loop from <input class="vaesep-loop-start" type="number" step="0.1" min="0">
      to <input class="vaesep-loop-end" type="number" step="0.1" min="0"> s</span>
    <button class="vaesep-loop-in">start here</button>
    <button class="vaesep-loop-out">end here</button>
    <button class="vaesep-loop-all">whole clip</button>`;
  const $ = (name) => el.querySelector(`.vaesep-${name}`);

  const duration = () => Object.values(buffers)[0]?.duration ?? 0;
  function region() {
    const [start, end] = model.get("loop");
    const d = duration(), a = Math.min(Math.max(start, 0), d), b = Math.min(end, d);
    return b - a > 0.05 ? [a, b] : [0, d]; // an empty or reversed region loops the clip
  }
  function position() {
    if (!running) return paused;
    const [a, b] = running.region;
    const p = anchor.offset + Math.max(0, ctx.currentTime - anchor.time);
    return p < b ? p : a + ((p - b) % (b - a));
  }
  function start() {
    const [a, b] = region(), when = ctx.currentTime + LEAD_S;
    const offset = paused >= a && paused < b ? paused : a;
    running = { region: [a, b], nodes: {} };
    for (const [name, buffer] of Object.entries(buffers)) {
      const options = { buffer, loop: true, loopStart: a, loopEnd: b };
      const source = new AudioBufferSourceNode(ctx, options);
      const gain = new GainNode(ctx, { gain: name === model.get("active") ? 1 : 0 });
      source.connect(gain).connect(ctx.destination);
      source.start(when, offset);
      running.nodes[name] = { source, gain };
    }
    anchor = { time: when, offset };
  }
  function stop() {
    if (!running) return;
    paused = position();
    for (const { source, gain } of Object.values(running.nodes)) {
      source.stop();
      gain.disconnect();
    }
    running = null;
  }
  function seek(seconds) {
    const wasRunning = running !== null;
    stop();
    paused = seconds;
    if (wasRunning) start();
  }
  // bring the audio in line with the model: playing or not, which clip, which region
  function update() {
    const want = model.get("playing") && model.get("active") in buffers;
    if (want && !running) {
      ctx.resume();
      start();
    } else if (!want && running) {
      stop();
    } else if (running) {
      const [a, b] = region();
      if (a !== running.region[0] || b !== running.region[1]) return seek(position());
      const now = ctx.currentTime;
      for (const [name, { gain }] of Object.entries(running.nodes)) {
        gain.gain.setValueAtTime(gain.gain.value, now);
        gain.gain.linearRampToValueAtTime(name === model.get("active") ? 1 : 0, now + FADE_S);
      }
    }
  }
  async function load() {
    const mine = ++version;
    stop();
    paused = 0;
    const decoded = {};
    for (const [name, data] of Object.entries(model.get("clips"))) {
      // a DataView (ipywidgets 7 and 8) or an ArrayBuffer; decoding detaches it: copy
      const bytes = data.buffer
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      decoded[name] = await ctx.decodeAudioData(bytes.slice().buffer);
    }
    if (mine !== version) return;
    buffers = decoded;
    update();
  }
  function setLoop(start, end) {
    model.set("loop", [start, end]);
    model.save_changes();
  }

  $("toggle").onclick = () => {
    if (!model.get("active")) model.set("active", Object.keys(buffers)[0] ?? "");
    model.set("playing", !model.get("playing"));
    model.save_changes();
  };
  $("bar").onclick = (event) => {
    const box = $("bar").getBoundingClientRect();
    seek(((event.clientX - box.left) / box.width) * duration());
  };
  $("loop-start").onchange = (event) => setLoop(Number(event.target.value), region()[1]);
  $("loop-end").onchange = (event) => setLoop(region()[0], Number(event.target.value));
  $("loop-in").onclick = () => setLoop(position(), region()[1]);
  $("loop-out").onclick = () => setLoop(region()[0], position());
  $("loop-all").onclick = () => setLoop(0, duration());

  function draw() {
    const d = duration() || 1, p = position(), [a, b] = region();
    Object.assign(el.dataset, {
      position: p.toFixed(3), active: model.get("active"), playing: running !== null,
      loop: `${a.toFixed(3)} ${b.toFixed(3)}`,
    });
    const name = model.get("active");
    $("time").textContent = `${name || "–"} ${p.toFixed(2)} / ${duration().toFixed(2)} s`;
    $("toggle").textContent = running ? "Pause" : "Play";
    $("head").style.left = `${(100 * p) / d}%`;
    const shade = { left: `${(100 * a) / d}%`, width: `${(100 * (b - a)) / d}%` };
    Object.assign($("region").style, shade);
    for (const [input, value] of [["loop-start", a], ["loop-end", b]]) {
      if (document.activeElement !== $(input)) $(input).value = value.toFixed(2);
    }
  }

  model.on("change:clips", load);
  model.on("change:active change:playing change:loop", update);
  load();
  const timer = setInterval(draw, 50);
  return () => {
    clearInterval(timer);
    stop();
    ctx.close();
  };
}

export default { render };
