// The served index: every run and comparison, newest first, a row each coloured by verdict, with
// filters (workload, plugin, runtime, verdict) applied in the page by a small inline script and
// links to each folder's reports and raw files.
import { escapeHtml } from "../results/svg-charts.js";
import type { IndexEntry, Verdict } from "./results-index.js";

/** Every verdict is offered, present or not: "show me the invalid runs" must be askable. */
const verdictOrder: Verdict[] = ["invalid", "unknown", "crashed", "running", "valid"];

const verdictColours: Record<Verdict, string> = { valid: "#2b8a3e", invalid: "#c92a2a", unknown: "#e67700", crashed: "#5f3dc4", running: "#1971c2" };

export function renderIndexHtml(entries: readonly IndexEntry[], root: string): string {
  const distinct = (values: string[]): string[] => [...new Set(values.filter((value) => value !== ""))].sort();
  const filter = (name: string, label: string, values: string[]): string =>
    `<label>${label} <select id="filter-${name}" data-filter="${name}"><option value="">all</option>${values.map((value) => `<option>${escapeHtml(value)}</option>`).join("")}</select></label>`;
  const rows = entries.map((entry) => {
    const href = (file: string): string => `/${encodePath(entry.path === "" ? file : `${entry.path}/${file}`)}${file === "nodes" ? "/" : ""}`;
    const links = entry.files.map((file) => `<a href="${escapeHtml(href(file))}">${escapeHtml(file)}</a>`).join(" ");
    return (
      `<tr class="entry" data-kind="${entry.kind}" data-workload="${escapeHtml(entry.workload)}" data-plugin="${escapeHtml(`|${entry.plugins.join("|")}|`)}" data-runtime="${escapeHtml(entry.runtime)}" data-verdict="${entry.verdict}">` +
      `<td><span class="verdict" style="background:${verdictColours[entry.verdict]}">${entry.verdict.toUpperCase()}</span></td>` +
      `<td>${entry.kind}${entry.partOf === null ? "" : `<br><small class="muted">in <a href="/${escapeHtml(encodePath(entry.partOf))}/compare.html">${escapeHtml(entry.partOf)}</a></small>`}</td>` +
      `<td>${escapeHtml(entry.workload)}</td><td>${escapeHtml(entry.plugins.join(", "))}</td><td>${escapeHtml(entry.runtime)}</td>` +
      `<td>${entry.seed === null ? "" : entry.seed}</td><td>${escapeHtml(entry.started.replace("T", " ").replace(/\.\d+Z$/, "Z"))}</td>` +
      `<td>${escapeHtml(entry.detail)}</td><td><a href="/${escapeHtml(encodePath(entry.path))}${entry.path === "" ? "" : "/"}">${escapeHtml(entry.path === "" ? "." : entry.path)}</a><br>${links}</td></tr>`
    );
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>raftlab results</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #212529; }
h1 { font-size: 22px; margin: 0 0 8px; } table { border-collapse: collapse; margin-top: 10px; }
th, td { border: 1px solid #dee2e6; padding: 4px 8px; text-align: left; vertical-align: top; } th { background: #f1f3f5; }
.verdict { display: inline-block; color: #fff; padding: 1px 8px; border-radius: 3px; font-weight: 600; }
.muted { color: #868e96; } .filters label { margin-right: 14px; } td a { margin-right: 6px; }
</style></head><body>
<h1>raftlab results</h1>
<p class="muted">${escapeHtml(root)}: ${entries.filter((entry) => entry.kind === "run").length} run(s), ${entries.filter((entry) => entry.kind === "comparison").length} comparison(s), newest first. Read-only.</p>
<div class="filters">
${filter("workload", "workload", distinct(entries.map((entry) => entry.workload)))}
${filter("plugin", "plugin", distinct(entries.flatMap((entry) => entry.plugins)))}
${filter("runtime", "runtime", distinct(entries.map((entry) => entry.runtime)))}
${filter("verdict", "verdict", verdictOrder)}
<span id="shown"></span>
</div>
<table id="entries"><thead><tr><th>verdict</th><th>kind</th><th>workload</th><th>plugin(s)</th><th>runtime</th><th>seed</th><th>started</th><th></th><th>folder and files</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
${entries.length === 0 ? `<p>No runs yet: <code>raftlab run</code> or <code>raftlab compare</code> write here.</p>` : ""}
<script>
(function () {
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.entry"));
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = selects.every(function (select) {
        var wanted = select.value, name = select.getAttribute("data-filter");
        if (wanted === "") return true;
        var have = row.getAttribute("data-" + name) || "";
        return name === "plugin" ? have.indexOf("|" + wanted + "|") >= 0 : have === wanted;
      });
      row.style.display = visible ? "" : "none";
      if (visible) shown += 1;
    });
    document.getElementById("shown").textContent = shown + " of " + rows.length + " shown";
  }
  selects.forEach(function (select) { select.addEventListener("change", apply); });
  apply();
})();
</script>
</body></html>
`;
}

/** Each path segment URI-encoded, "/" kept. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
