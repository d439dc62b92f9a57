// Inline SVG charts for the run report: a latency scatter and a throughput line over the run's
// time, both with fault intervals shaded. Plain strings, no dependencies, no scripts: the report
// must open from a results folder anywhere, offline.
import type { FaultInterval, ThroughputSecond } from "../checks/perf.js";

export interface LatencyPoint {
  /** Seconds since the run started (the operation's invoke). */
  timeS: number;
  latencyMs: number;
  type: "ok" | "fail" | "info";
  f: string;
}

const width = 960;
const plotLeft = 64;
const plotRight = 16;
const plotTop = 12;
const outcomeColours: Record<LatencyPoint["type"], string> = { ok: "#2b8a3e", fail: "#c92a2a", info: "#e67700" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 1 : 0);
}

/** Shaded bands for fault intervals with a label at the top, behind the data. A fault the nemesis
 * could not inject (its record holds an `error`) is drawn grey. */
function faultBands(faults: readonly FaultInterval[], x: (timeS: number) => number, height: number): string {
  return faults
    .map((fault) => {
      const left = x(fault.startS);
      const bandWidth = Math.max(1, x(fault.endS) - left);
      const failed = typeof fault.value === "object" && fault.value !== null && "error" in fault.value;
      const title = escapeHtml(`${fault.f}${failed ? " (not injected)" : ""}: ${fault.startS}s to ${fault.endS}s ${JSON.stringify(fault.value)}`);
      // A label wider than its band would run into the next one: the title still names it.
      const label = bandWidth >= fault.f.length * 6 + 4 ? `<text x="${(left + 3).toFixed(1)}" y="${plotTop + 11}" font-size="10" fill="#8a6d00">${escapeHtml(fault.f)}</text>` : "";
      return (
        `<g class="fault"><title>${title}</title><rect x="${left.toFixed(1)}" y="${plotTop}" width="${bandWidth.toFixed(1)}" height="${height}" ` +
        `fill="${failed ? "#868e96" : "#fab005"}" fill-opacity="${failed ? "0.12" : "0.18"}"/>${label}</g>`
      );
    })
    .join("");
}

function timeAxis(durationS: number, x: (timeS: number) => number, y: number): string {
  const step = niceStep(durationS / 10);
  let ticks = "";
  for (let timeS = 0; timeS <= durationS + 1e-9; timeS += step) {
    ticks += `<line x1="${x(timeS).toFixed(1)}" y1="${y}" x2="${x(timeS).toFixed(1)}" y2="${y + 4}" stroke="#495057"/>`;
    ticks += `<text x="${x(timeS).toFixed(1)}" y="${y + 16}" font-size="10" text-anchor="middle">${format(timeS)}s</text>`;
  }
  return `<line x1="${plotLeft}" y1="${y}" x2="${width - plotRight}" y2="${y}" stroke="#495057"/>${ticks}`;
}

function niceStep(rough: number): number {
  if (!(rough > 0)) {
    return 1;
  }
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const scaled = rough / magnitude;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * magnitude;
}

/** The plot area of a chart `height` high over `durationS` seconds. */
interface ChartFrame {
  height: number;
  plotHeight: number;
  spanS: number;
  x(timeS: number): number;
}

function chartFrame(height: number, durationS: number): ChartFrame {
  const spanS = Math.max(durationS, 1);
  return { height, plotHeight: height - plotTop - 28, spanS, x: (timeS) => plotLeft + (timeS / spanS) * (width - plotLeft - plotRight) };
}

/** A horizontal grid line at `y` with its label on the left. */
function gridLine(y: number, label: string): string {
  return (
    `<line x1="${plotLeft}" y1="${y.toFixed(1)}" x2="${width - plotRight}" y2="${y.toFixed(1)}" stroke="#dee2e6"/>` +
    `<text x="${plotLeft - 6}" y="${(y + 3).toFixed(1)}" font-size="10" text-anchor="end">${label}</text>`
  );
}

/** The svg element: fault bands behind, then the chart's own parts, then the time axis. */
function svgChart(className: string, label: string, frame: ChartFrame, faults: readonly FaultInterval[], parts: readonly string[]): string {
  return (
    `<svg class="chart ${className}" viewBox="0 0 ${width} ${frame.height}" width="100%" role="img" aria-label="${label}">` +
    faultBands(faults, frame.x, frame.plotHeight) +
    parts.join("") +
    timeAxis(frame.spanS, frame.x, plotTop + frame.plotHeight) +
    `</svg>`
  );
}

/** Latency per operation on a log scale, coloured by outcome. */
export function latencyChart(points: readonly LatencyPoint[], faults: readonly FaultInterval[], durationS: number): string {
  const frame = chartFrame(300, durationS);
  const { plotHeight, x } = frame;
  const maxMs = Math.max(1, ...points.map((point) => point.latencyMs));
  const minMs = 0.1;
  const logSpan = Math.log10(maxMs * 1.2) - Math.log10(minMs);
  const y = (latencyMs: number): number => plotTop + plotHeight - ((Math.log10(Math.max(minMs, latencyMs)) - Math.log10(minMs)) / logSpan) * plotHeight;
  let grid = "";
  for (let decade = minMs; decade <= maxMs * 1.2; decade *= 10) {
    grid += gridLine(y(decade), `${format(decade)} ms`);
  }
  const dots = points
    .map((point) => `<circle cx="${x(point.timeS).toFixed(1)}" cy="${y(point.latencyMs).toFixed(1)}" r="1.8" fill="${outcomeColours[point.type]}" fill-opacity="0.65"/>`)
    .join("");
  const legend = (["ok", "fail", "info"] as const)
    .map((type, position) => `<circle cx="${width - 150 + position * 48}" cy="${plotTop + 8}" r="4" fill="${outcomeColours[type]}"/><text x="${width - 142 + position * 48}" y="${plotTop + 12}" font-size="11">${type}</text>`)
    .join("");
  return svgChart("latency", "latency per operation over time", frame, faults, [grid, dots, legend]);
}

/** Completed operations per second, one line per outcome. */
export function throughputChart(series: readonly ThroughputSecond[], faults: readonly FaultInterval[], durationS: number): string {
  const frame = chartFrame(220, durationS);
  const { plotHeight, x } = frame;
  const maxCount = Math.max(1, ...series.map((bucket) => bucket.ok + bucket.fail + bucket.info));
  const top = niceStep(maxCount / 4) * 4;
  const y = (count: number): number => plotTop + plotHeight - (count / top) * plotHeight;
  let grid = "";
  for (let count = 0; count <= top; count += top / 4) {
    grid += gridLine(y(count), `${format(count)}/s`);
  }
  const lines = (["ok", "fail", "info"] as const)
    .map((type) => {
      const coordinates = series.map((bucket) => `${x(bucket.second + 0.5).toFixed(1)},${y(bucket[type]).toFixed(1)}`).join(" ");
      return coordinates === "" ? "" : `<polyline points="${coordinates}" fill="none" stroke="${outcomeColours[type]}" stroke-width="1.5"/>`;
    })
    .join("");
  return svgChart("throughput", "throughput per second", frame, faults, [grid, lines]);
}
