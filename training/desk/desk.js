// The wirecoder coding desk: code reports through POST /v1/code, correct sentences, export rows
// (ACLED CSV) and corrected sentences (corpus JSONL records for `wirecoder train --data`).
"use strict";

const EVENT_ONLY = new Set(["TRIGGER", "FATALITIES", "INJURED"]); // need an event (corpus rule)
const state = { model: null, docs: [], pending: null, editing: null };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// -- the server -------------------------------------------------------------------------------------

function headers() {
  const h = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem("wirecoder-token");
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function api(path, body) {
  const res = await fetch(path, body === undefined ? { headers: headers() }
    : { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (res.status === 401) {
    $("#token-box").hidden = false;
    throw new Error("this server needs a token: enter it above");
  }
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

async function loadModel() {
  try {
    state.model = await api("/v1/model");
  } catch (err) {
    $("#model-line").textContent = err.message;
    return;
  }
  $("#token-box").hidden = true;
  const m = state.model;
  const f1 = m.metrics && m.metrics.test ? ` · test sub-event micro F1 ${m.metrics.test.sub_event_types.micro_f1.toFixed(3)}` : "";
  $("#model-line").textContent = `model ${m.model_dir || ""} · corpus ${m.corpus_version || "unknown"}${f1}`;
  $("#legend").replaceChildren(...m.span_labels.map((lab) => mark(lab, lab)));
  $("#span-label").replaceChildren(...m.span_labels.map((lab) => el("option", { value: lab }, lab)));
}

// -- input ------------------------------------------------------------------------------------------

function stem(name) { return name.replace(/\.[^.]*$/, ""); }

function readJsonl(text, name) {
  const docs = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let obj;
    try { obj = JSON.parse(line); } catch (e) { throw new Error(`${name} line ${i + 1}: not JSON (${e.message})`); }
    if (typeof obj.text !== "string") throw new Error(`${name} line ${i + 1}: no "text" string`);
    docs.push({ id: obj.id !== undefined ? String(obj.id) : `${stem(name)}-${i + 1}`, text: obj.text });
  });
  return docs;
}

async function openFile(file) {
  const text = await file.text();
  if (file.name.toLowerCase().endsWith(".jsonl")) {
    try {
      state.pending = readJsonl(text, file.name);
    } catch (err) {
      status(err.message, true);
      return;
    }
    $("#input").value = state.pending.map((d) => d.text).join("\n\n");
    status(`${state.pending.length} reports from ${file.name}: press Code`);
  } else {
    state.pending = [{ id: stem(file.name), text }];
    $("#input").value = text;
    status(`${file.name}: press Code`);
  }
}

function status(msg, error = false) {
  $("#status").textContent = msg;
  $("#status").classList.toggle("warn", error);
}

function uniqueIds(docs) {
  const seen = new Map();
  return docs.map((d) => {
    const n = (seen.get(d.id) || 0) + 1;
    seen.set(d.id, n);
    return n === 1 ? d : { ...d, id: `${d.id}#${n}` };
  });
}

async function codeInput() {
  const text = $("#input").value;
  const docs = uniqueIds(state.pending || (text.trim() ? [{ id: "report", text }] : []));
  if (!docs.length) { status("paste a report first", true); return; }
  const body = { texts: docs.map((d) => d.text), ids: docs.map((d) => d.id) };
  state.documentDate = $("#document-date").value || null;
  if (state.documentDate) body.document_date = state.documentDate;
  status("coding…");
  try {
    const { predictions } = await api("/v1/code", body);
    state.docs = predictions.map(fromPrediction);
    state.editing = null;
    render();
    status(`${predictions.length} report(s) coded`);
  } catch (err) {
    status(err.message, true);
  }
}

function fromPrediction(p) {
  const sentences = p.sentences.map((s, i) => ({
    start: s.start, end: s.end, text: s.text,
    subs: s.sub_event_types.map((x) => ({ label: x.label, score: x.score })),
    spans: p.spans.filter((sp) => sp.sentence === i)
      .map((sp) => ({ start: sp.start - s.start, end: sp.end - s.start, label: sp.label, score: sp.score })),
    corrected: false,
  }));
  sentences.forEach((s) => { s.original = JSON.stringify({ subs: s.subs, spans: s.spans }); });
  return { id: p.id, text: p.text, rows: p.events, sentences };
}

// -- the report ---------------------------------------------------------------------------------------

function mark(text, label) {
  const colour = (state.model && state.model.span_colours[label]) || "#ddd";
  return el("mark", { "data-label": label, style: `background:${colour}` }, text);
}

// The sentence with its spans highlighted; the label is drawn by CSS, so the text stays the sentence's.
function sentenceText(sentence) {
  const box = el("span", { class: "sent-text" });
  let pos = 0;
  for (const sp of [...sentence.spans].sort((a, b) => a.start - b.start)) {
    box.append(sentence.text.slice(pos, sp.start), mark(sentence.text.slice(sp.start, sp.end), sp.label));
    pos = sp.end;
  }
  box.append(sentence.text.slice(pos));
  return box;
}

function typeChips(sentence) {
  const sub2event = subToEvent();
  if (!sentence.subs.length) return [el("span", { class: "chip none" }, "no event")];
  return sentence.subs.map((x) => el("span", { class: "chip", "data-type": x.label },
    `${sub2event[x.label]} · ${x.label} ${x.score === null ? "✓" : x.score.toFixed(2)}`));
}

function subToEvent() {
  const out = {};
  for (const [ev, subs] of Object.entries(state.model.taxonomy)) for (const s of subs) out[s] = ev;
  return out;
}

function render() {
  const report = $("#report");
  report.replaceChildren();
  state.docs.forEach((doc, d) => {
    const section = el("section", { class: "doc" }, el("h2", {}, doc.id));
    doc.sentences.forEach((s, i) => {
      const cls = "sent" + (s.corrected ? " corrected" : "") + (state.editing && state.editing[0] === d && state.editing[1] === i ? " selected" : "");
      section.append(el("div", { class: cls, "data-doc": d, "data-sent": i, tabindex: 0, title: "click to correct",
        onclick: () => openEditor(d, i) }, sentenceText(s), el("div", { class: "types" }, ...typeChips(s))));
    });
    report.append(section);
  });
  renderRows();
}

// -- correcting a sentence ------------------------------------------------------------------------------

function openEditor(d, i) {
  state.editing = [d, i];
  $("#editor").hidden = false;
  renderEditor();
  render();
}

function editingSentence() {
  const [d, i] = state.editing;
  return state.docs[d].sentences[i];
}

function renderEditor() {
  const [d, i] = state.editing;
  const s = editingSentence();
  $("#edit-where").textContent = `${state.docs[d].id} · ${i + 1}`;
  $("#edit-text").replaceChildren(sentenceText(s));
  $("#edit-spans tbody").replaceChildren(...[...s.spans].sort((a, b) => a.start - b.start).map((sp) => {
    const select = el("select", { "aria-label": "label of " + s.text.slice(sp.start, sp.end),
      onchange: (e) => { sp.label = e.target.value; sp.score = null; changed(); } },
      ...state.model.span_labels.map((lab) => el("option", { value: lab }, lab)));
    select.value = sp.label;
    return el("tr", {}, el("td", {}, s.text.slice(sp.start, sp.end)), el("td", {}, select),
      el("td", {}, el("button", { type: "button", class: "remove", title: "remove this span",
        onclick: () => { s.spans.splice(s.spans.indexOf(sp), 1); changed(); } }, "×")));
  }));
  const dropped = s.subs.length ? [] : s.spans.filter((sp) => EVENT_ONLY.has(sp.label)).map((sp) => sp.label);
  $("#edit-warning").hidden = !dropped.length;
  $("#edit-warning").textContent = dropped.length
    ? `With no event, ${[...new Set(dropped)].join(" and ")} spans are not exported (they belong to events).` : "";
  const checked = new Set(s.subs.map((x) => x.label));
  $("#edit-types").replaceChildren(...Object.entries(state.model.taxonomy).map(([ev, subs]) =>
    el("fieldset", {}, el("legend", {}, ev), ...subs.map((sub) => {
      const box = el("input", { type: "checkbox", value: sub, onchange: (e) => toggleType(sub, e.target.checked) });
      box.checked = checked.has(sub);
      return el("label", { class: "type" }, box, " " + sub);
    }))));
}

function toggleType(sub, on) {
  const s = editingSentence();
  s.subs = s.subs.filter((x) => x.label !== sub);
  if (on) s.subs.push({ label: sub, score: null }); // null: set by a person, not scored
  changed();
}

function changed() {
  editingSentence().corrected = true;
  renderEditor();
  render();
  refreshRows(state.editing[0]);
}

const WORD = /[\p{L}\p{N}]/u;
const EDGE = /[\s,;:!?"'()\[\]“”‘’]/u;

// Spans cover whole words (the corpus refuses half words): widen to word edges, trim spaces and quotes.
function snapToWords(text, start, end) {
  while (start < end && EDGE.test(text[start])) start++;
  while (end > start && EDGE.test(text[end - 1])) end--;
  while (start > 0 && start < end && WORD.test(text[start - 1]) && WORD.test(text[start])) start--;
  while (end < text.length && end > start && WORD.test(text[end]) && WORD.test(text[end - 1])) end++;
  return start < end ? [start, end] : null;
}

function selectionIn(container) {
  const sel = window.getSelection();
  if (!sel.rangeCount) return null;
  const r = sel.getRangeAt(0);
  if (!container.contains(r.startContainer) || !container.contains(r.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(container);
  before.setEnd(r.startContainer, r.startOffset);
  const start = before.toString().length;
  return [start, start + r.toString().length];
}

function addSpan() {
  const s = editingSentence();
  const sel = selectionIn($("#edit-text"));
  const snapped = sel && snapToWords(s.text, sel[0], sel[1]);
  if (!snapped) { status("select some words of the sentence first", true); return; }
  const [start, end] = snapped;
  s.spans = s.spans.filter((sp) => sp.end <= start || sp.start >= end); // the new span replaces overlaps
  s.spans.push({ start, end, label: $("#span-label").value, score: null });
  window.getSelection().removeAllRanges();
  changed();
}

function resetSentence() {
  const s = editingSentence();
  Object.assign(s, JSON.parse(s.original), { corrected: false });
  renderEditor();
  render();
  refreshRows(state.editing[0]);
}

function closeEditor() {
  state.editing = null;
  $("#editor").hidden = true;
  render();
}

// -- event rows and exports -----------------------------------------------------------------------------

// The rows come from the server, built from the (corrected) sentences by the same code as predict's.
const ROW_COLUMNS = ["event_type", "sub_event_type", "event_date", "date", "actor1", "actor2", "location",
  "fatalities", "injured", "weapons", "trigger", "score", "sentences"];

function docPayload(doc) {
  return {
    id: doc.id, text: doc.text,
    sentences: doc.sentences.map((s) => ({ start: s.start, end: s.end, sub_event_types: s.subs })),
    spans: doc.sentences.flatMap((s) => s.spans.map((sp) => ({ start: s.start + sp.start, end: s.start + sp.end,
      label: sp.label, score: sp.score }))),
  };
}

function eventsBody(docs, format) {
  const body = { documents: docs.map(docPayload), format };
  if (state.documentDate) body.document_date = state.documentDate;
  return body;
}

async function refreshRows(d) {
  const doc = state.docs[d];
  const seq = (doc.rowsSeq = (doc.rowsSeq || 0) + 1); // an older answer arriving late is dropped
  try {
    const { predictions } = await api("/v1/events", eventsBody([doc], "json"));
    if (seq !== doc.rowsSeq) return;
    doc.rows = predictions[0].events;
    doc.rowsCorrected = doc.sentences.some((s) => s.corrected);
    renderRows();
  } catch (err) {
    status(err.message, true);
  }
}

function rowCell(row, col) {
  let v = row[col];
  if (col === "fatalities" || col === "injured") v = v ?? row[col + "_text"];
  if (col === "sentences" && v === undefined) v = [row.sentence];
  if (col === "score" && typeof v === "number") v = v.toFixed(2);
  return Array.isArray(v) ? v.join("; ") : v ?? "";
}

function renderRows() {
  $("#rows-box").hidden = !state.docs.length;
  $("#rows thead").replaceChildren(el("tr", {}, el("th", {}, "report"), ...ROW_COLUMNS.map((c) => el("th", {}, c))));
  $("#rows tbody").replaceChildren(...state.docs.flatMap((doc) => (doc.rows || []).map((row) =>
    el("tr", { class: doc.rowsCorrected ? "corrected" : "" }, el("td", {}, doc.id),
      ...ROW_COLUMNS.map((c) => el("td", { "data-col": c }, rowCell(row, c)))))));
}

async function exportCsv() {
  try {
    const res = await fetch("/v1/events", { method: "POST", headers: headers(), body: JSON.stringify(eventsBody(state.docs, "acled")) });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
    download("wirecoder_events.csv", "text/csv", await res.text());
  } catch (err) {
    status(err.message, true);
  }
}

// Corpus records as `wirecoder train --data FILE.jsonl` reads them (training/corpus.py).
function corpusRecords(all) {
  const out = [];
  for (const doc of state.docs) {
    doc.sentences.forEach((s, i) => {
      if (!all && !s.corrected) return;
      const spans = [...s.spans].sort((a, b) => a.start - b.start)
        .filter((sp) => s.subs.length || !EVENT_ONLY.has(sp.label))
        .map((sp) => ({ start: sp.start, end: sp.end, label: sp.label }));
      out.push({ id: `${doc.id}-s${i + 1}`, doc_id: doc.id, text: s.text,
        sub_event_types: s.subs.map((x) => x.label), spans });
    });
  }
  return out;
}

function exportJsonl() {
  const records = corpusRecords($("#export-all").checked);
  if (!records.length) { status("no corrected sentences yet: click a sentence to correct it, or tick 'all sentences'", true); return; }
  download("wirecoder_corrections.jsonl", "application/jsonl", records.map((r) => JSON.stringify(r) + "\n").join(""));
  status(`${records.length} sentence(s) exported`);
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// -- wiring -------------------------------------------------------------------------------------------

function wire() {
  $("#code").addEventListener("click", codeInput);
  $("#input").addEventListener("input", () => { state.pending = null; });
  $("#file").addEventListener("change", (e) => e.target.files[0] && openFile(e.target.files[0]));
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) openFile(e.dataTransfer.files[0]);
  });
  $("#add-span").addEventListener("click", addSpan);
  $("#edit-done").addEventListener("click", closeEditor);
  $("#edit-reset").addEventListener("click", resetSentence);
  $("#export-csv").addEventListener("click", exportCsv);
  $("#export-jsonl").addEventListener("click", exportJsonl);
  $("#token-save").addEventListener("click", () => {
    sessionStorage.setItem("wirecoder-token", $("#token").value);
    loadModel();
  });
  loadModel();
}

wire();
