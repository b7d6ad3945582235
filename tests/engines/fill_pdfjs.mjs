// Fill a PDF form the way Firefox's viewer (pdf.js) does, then save it the way Firefox saves.
//
// Usage: node fill_pdfjs.mjs '{"packet": "in.pdf", "target": "out.pdf", "radios": {"c:vision": 2}, "texts": {"justification": "..."}}'
// (or the same JSON on stdin). A radio's rating is the state name of the widget to click.
//
// What a click does is copied from pdf.js's src/display/annotation_layer.js: a radio button's
// "change" handler (RadioButtonWidgetAnnotationElement) stores value false for every other widget
// of the group and value true (its checked state) for the clicked one; a text field's "input"
// handler (TextWidgetAnnotationElement) stores the typed text as its value. Saving is
// PDFDocumentProxy.saveDocument(), what Firefox's "Save" runs.

import { readFileSync, writeFileSync } from "node:fs";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const raw = process.argv[2] ?? readFileSync(0, "utf8");
const { packet, target, radios = {}, texts = {} } = JSON.parse(raw);

const pdf = await getDocument({ data: new Uint8Array(readFileSync(packet)), verbosity: 0 }).promise;
const fields = (await pdf.getFieldObjects()) ?? {};
const storage = pdf.annotationStorage;

function widgets(name) {
  const found = (fields[name] ?? []).filter((widget) => widget.page !== -1);
  if (!found.length) throw new Error(`no field named ${JSON.stringify(name)}`);
  return found;
}

for (const [name, rating] of Object.entries(radios)) {
  const group = widgets(name);
  const clicked = group.find((widget) => widget.exportValues === String(rating));
  if (!clicked) throw new Error(`${name}: no widget with state ${rating}`);
  for (const other of group) {
    if (other.id !== clicked.id) storage.setValue(other.id, { value: false });
  }
  storage.setValue(clicked.id, { value: true });
}

for (const [name, text] of Object.entries(texts)) {
  for (const widget of widgets(name)) storage.setValue(widget.id, { value: text });
}

writeFileSync(target, await pdf.saveDocument());
await pdf.destroy();
