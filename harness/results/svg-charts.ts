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

/** Shaded bands for fault intervals with a label at the top, behind the data. */
function faultBands(faults: readonly FaultInterval[], x: (timeS: number) => number, height: number): string {
  return faults
    .map((fault) => {
      const left = x(fault.startS);
      const bandWidth = Math.max(1, x(fault.endS) - left);
      const title = escapeHtml(`${fault.f}: ${fault.startS}s to ${fault.endS}s ${JSON.stringify(fault.value)}`);
      return (
        `<g class="fault"><title>${title}</title><rect x="${left.toFixed(1)}" y="${plotTop}" width="${bandWidth.toFixed(1)}" height="${height}" fill="#fab005" fill-opacity="0.18"/>` +
        `<text x="${(left + 3).toFixed(1)}" y="${plotTop + 11}" font-size="10" fill="#8a6d00">${escapeHtml(fault.f)}</text></g>`
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

/** Latency per operation on a log scale, coloured by outcome. */
export function latencyChart(points: readonly LatencyPoint[], faults: readonly FaultInterval[], durationS: number): string {
  const height = 300;
  const plotHeight = height - plotTop - 28;
  const spanS = Math.max(durationS, 1);
  const x = (timeS: number): number => plotLeft + (timeS / spanS) * (width - plotLeft - plotRight);
  const maxMs = Math.max(1, ...points.map((point) => point.latencyMs));
  const minMs = 0.1;
  const logSpan = Math.log10(maxMs * 1.2) - Math.log10(minMs);
  const y = (latencyMs: number): number => plotTop + plotHeight - ((Math.log10(Math.max(minMs, latencyMs)) - Math.log10(minMs)) / logSpan) * plotHeight;
  let grid = "";
  for (let decade = minMs; decade <= maxMs * 1.2; decade *= 10) {
    grid += `<line x1="${plotLeft}" y1="${y(decade).toFixed(1)}" x2="${width - plotRight}" y2="${y(decade).toFixed(1)}" stroke="#dee2e6"/>`;
    grid += `<text x="${plotLeft - 6}" y="${(y(decade) + 3).toFixed(1)}" font-size="10" text-anchor="end">${format(decade)} ms</text>`;
  }
  const dots = points
    .map((point) => `<circle cx="${x(point.timeS).toFixed(1)}" cy="${y(point.latencyMs).toFixed(1)}" r="1.8" fill="${outcomeColours[point.type]}" fill-opacity="0.65"/>`)
    .join("");
  const legend = (["ok", "fail", "info"] as const)
    .map((type, position) => `<circle cx="${width - 150 + position * 48}" cy="${plotTop + 8}" r="4" fill="${outcomeColours[type]}"/><text x="${width - 142 + position * 48}" y="${plotTop + 12}" font-size="11">${type}</text>`)
    .join("");
  return (
    `<svg class="chart latency" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="latency per operation over time">` +
    faultBands(faults, x, plotHeight) +
    grid +
    dots +
    timeAxis(spanS, x, plotTop + plotHeight) +
    legend +
    `</svg>`
  );
}

/** Completed operations per second, one line per outcome. */
export function throughputChart(series: readonly ThroughputSecond[], faults: readonly FaultInterval[], durationS: number): string {
  const height = 220;
  const plotHeight = height - plotTop - 28;
  const spanS = Math.max(durationS, 1);
  const x = (timeS: number): number => plotLeft + (timeS / spanS) * (width - plotLeft - plotRight);
  const maxCount = Math.max(1, ...series.map((bucket) => bucket.ok + bucket.fail + bucket.info));
  const top = niceStep(maxCount / 4) * 4;
  const y = (count: number): number => plotTop + plotHeight - (count / top) * plotHeight;
  let grid = "";
  for (let count = 0; count <= top; count += top / 4) {
    grid += `<line x1="${plotLeft}" y1="${y(count).toFixed(1)}" x2="${width - plotRight}" y2="${y(count).toFixed(1)}" stroke="#dee2e6"/>`;
    grid += `<text x="${plotLeft - 6}" y="${(y(count) + 3).toFixed(1)}" font-size="10" text-anchor="end">${format(count)}/s</text>`;
  }
  const lines = (["ok", "fail", "info"] as const)
    .map((type) => {
      const coordinates = series.map((bucket) => `${x(bucket.second + 0.5).toFixed(1)},${y(bucket[type]).toFixed(1)}`).join(" ");
      return coordinates === "" ? "" : `<polyline points="${coordinates}" fill="none" stroke="${outcomeColours[type]}" stroke-width="1.5"/>`;
    })
    .join("");
  return (
    `<svg class="chart throughput" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="throughput per second">` +
    faultBands(faults, x, plotHeight) +
    grid +
    lines +
    timeAxis(spanS, x, plotTop + plotHeight) +
    `</svg>`
  );
}
