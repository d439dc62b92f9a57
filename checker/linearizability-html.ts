// A self-contained HTML view of a checked history (inline CSS and JS, no network): one lane per
// process, each operation a bar from its invoke to its completion coloured by outcome, the
// linearization (or the longest linearizable prefix and the op that could not follow), model
// states on hover and click, a partition selector, and two x axes: the event index, and run time
// (wall time) with fault windows shaded and each lane labelled with the node(s) that answered. Drawn on a canvas, and only the lanes and
// the time range in view, so a 100k-operation history stays responsive.
import type { Plugin } from "../plugins/api.js";
import type { ParsedHistory } from "../history/parse.js";
import type { CheckResult } from "./linearizable.js";
import { buildReportData } from "./report-data.js";
import { reportScript } from "./report-script.js";

export interface ReportInput {
  file: string;
  plugin: Plugin;
  history: ParsedHistory;
  result: CheckResult;
}

export function renderReportHtml(input: ReportInput): string {
  const data = buildReportData(input);
  // "<" is escaped so that no "</script>" (or "<!--") in a value can end the data block early.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`raftlab check: ${input.file} (${input.result.verdict})`)}</title>
<style>${reportCss}</style>
</head>
<body>
<header>
  <h1><span id="verdict" class="verdict ${input.result.verdict}">${input.result.verdict}</span> <span id="file"></span></h1>
  <div id="summary"></div>
  <label>partition <select id="partition"></select></label>
  <span class="axis-toggle" title="x axis: position in the history file, or run time with fault windows and the nodes that answered">axis <button id="axis-event" class="active">event index</button><button id="axis-time">wall time</button></span>
  <span class="zoom"><button id="zoom-out" title="zoom out">&minus;</button><button id="zoom-fit" title="fit">fit</button><button id="zoom-in" title="zoom in">+</button></span>
  <span class="legend"><i class="ok"></i>ok <i class="fail"></i>fail <i class="info"></i>info <i class="bad"></i>cannot be linearized <i class="linearized"></i>linearized (#order) <i class="fault"></i>fault window</span>
</header>
<main>
  <div id="timeline"><canvas id="canvas"></canvas><div id="scroller"><div id="spacer"></div></div><div id="tooltip" hidden></div></div>
  <aside>
    <section id="details"><p class="hint">Click an operation to see the model state.</p></section>
    <h2 id="prefix-title"></h2>
    <div id="prefix"><div id="prefix-spacer"></div><div id="prefix-rows"></div></div>
  </aside>
</main>
<script type="application/json" id="report-data">${json}</script>
<script>${reportScript}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const reportCss = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: #1d232b; height: 100vh; display: flex; flex-direction: column; }
header { padding: 8px 12px; border-bottom: 1px solid #d5dbe3; display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; }
h1 { font-size: 15px; margin: 0; font-weight: 600; }
h2 { font-size: 13px; margin: 8px 0 4px; }
.verdict { padding: 1px 8px; border-radius: 10px; color: #fff; }
.verdict.ok { background: #2f8f46; } .verdict.illegal { background: #c7322b; } .verdict.unknown { background: #9a7b12; }
.legend i { display: inline-block; width: 14px; height: 10px; margin: 0 3px 0 8px; vertical-align: middle; }
.legend .ok { background: #4caf68; } .legend .fail { background: #a3abb5; } .legend .info { background: #e0a526; }
.legend .bad { border: 2px solid #d0021b; } .legend .linearized { border-bottom: 3px solid #2563eb; }
main { flex: 1; display: flex; min-height: 0; }
#timeline { flex: 1; position: relative; min-width: 0; }
#canvas { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
#scroller { position: absolute; inset: 0; overflow: auto; }
#spacer { width: 1px; height: 1px; }
#tooltip { position: absolute; pointer-events: none; background: #1d232bee; color: #fff; padding: 4px 8px; border-radius: 4px; max-width: 480px; white-space: pre-wrap; font: 12px/1.4 ui-monospace, monospace; z-index: 2; }
aside { width: 380px; border-left: 1px solid #d5dbe3; display: flex; flex-direction: column; padding: 8px; min-height: 0; }
#details { font: 12px/1.5 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-height: 40%; overflow: auto; }
#details .bad-op { color: #c7322b; font-weight: 600; }
.hint { color: #6b7480; font-family: system-ui, sans-serif; }
#prefix { flex: 1; overflow: auto; position: relative; font: 12px/18px ui-monospace, monospace; }
#prefix-rows { position: absolute; left: 0; right: 0; top: 0; }
.row { height: 18px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; padding: 0 4px; }
.row:hover { background: #eef2f7; } .row.bad-op { color: #c7322b; font-weight: 600; } .row.selected { background: #dbe7ff; }
button { font: inherit; padding: 0 8px; }
.axis-toggle button.active { background: #1d232b; color: #fff; }
.legend .fault { background: rgba(250,176,5,0.35); border-left: 1px solid #f08c00; }
`;
