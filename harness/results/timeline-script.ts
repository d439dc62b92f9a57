// report.html's timeline, as a browser script string (plain JavaScript, no dependencies, no
// network). Operations are drawn on a canvas from binned data (so 100,000 operations cost no more
// than 1,000); fault bands and leader and anomaly markers are a few positioned elements over it, so
// their labels are text a person (and a test) can read. Exposes `window.raftlabTimeline` for tests
// and the benchmark, and marks "raftlab-timeline-rendered" with performance.mark.
export const timelineScript = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var root = document.getElementById("timeline");
  var canvas = document.getElementById("timeline-canvas");
  var overlay = document.getElementById("timeline-overlay");
  var tooltip = document.getElementById("timeline-tooltip");
  var details = document.getElementById("timeline-details");
  var context = canvas.getContext("2d");
  var COLORS = ["#2b8a3e", "#c92a2a", "#e67700"];
  var LANE_COLORS = { o: "#69db7c", f: "#ff8787", i: "#ffc078" };
  var GUTTER = 84, RIGHT = 12, MARKERS = 48, THROUGHPUT = 90, LATENCY = 110, AXIS = 22, GAP = 6;
  var laneHeight = Math.max(3, Math.min(12, Math.floor(180 / Math.max(1, data.lanes.length))));
  var throughputTop = MARKERS, latencyTop = throughputTop + THROUGHPUT + GAP, lanesTop = latencyTop + LATENCY + GAP;
  var plotBottom = lanesTop + data.lanes.length * laneHeight;
  var height = plotBottom + AXIS;
  var binCount = data.ok.length;
  var view = { start: 0, end: data.durationS };
  var width = 0;
  var drawPending = false;
  var latencyMax = 1;
  data.pointLatencyMs.forEach(function (value) { if (value > latencyMax) { latencyMax = value; } });

  function plotWidth() { return Math.max(10, width - GUTTER - RIGHT); }
  function x(timeS) { return GUTTER + (timeS - view.start) / (view.end - view.start) * plotWidth(); }
  function timeAt(px) { return view.start + (px - GUTTER) / plotWidth() * (view.end - view.start); }
  function fmt(timeS) { return timeS.toFixed(3) + " s"; }

  // Overlay elements: made once, positioned on every draw.
  var faultElements = data.faults.map(function (fault, index) {
    var band = document.createElement("div");
    band.className = "band" + (fault.failed ? " not-injected" : "");
    band.dataset.fault = String(index);
    band.style.top = throughputTop + "px";
    band.style.height = (plotBottom - throughputTop) + "px";
    var label = document.createElement("span");
    label.className = "band-label";
    label.textContent = fault.kind + (fault.targets ? " " + fault.targets : "") + (fault.failed ? " (not injected)" : "");
    band.appendChild(label);
    overlay.appendChild(band);
    return band;
  });
  var leaderElements = data.leaders.map(function (change, index) {
    var marker = document.createElement("div");
    marker.className = "leader";
    marker.dataset.leader = String(index);
    marker.style.top = (index % 2 === 0 ? 2 : 16) + "px";
    marker.style.height = (plotBottom - (index % 2 === 0 ? 2 : 16)) + "px";
    var label = document.createElement("span");
    label.className = "marker-label";
    label.textContent = "n" + change.node + (change.term === null ? "" : " t" + change.term);
    marker.appendChild(label);
    overlay.appendChild(marker);
    return marker;
  });
  var anomalyElement = null;
  if (data.anomaly) {
    anomalyElement = document.createElement("div");
    anomalyElement.className = "anomaly";
    anomalyElement.id = "anomaly-marker";
    anomalyElement.style.top = "0px";
    anomalyElement.style.height = plotBottom + "px";
    var anomalyLabel = document.createElement("span");
    anomalyLabel.className = "marker-label";
    anomalyLabel.textContent = "first anomaly " + fmt(data.anomaly.timeS) +
      (data.anomaly.process === null ? "" : " p" + data.anomaly.process) + (data.anomaly.node === null ? "" : " n" + data.anomaly.node);
    anomalyElement.appendChild(anomalyLabel);
    overlay.appendChild(anomalyElement);
  }

  function place() {
    data.faults.forEach(function (fault, index) {
      var left = Math.max(GUTTER, x(fault.startS)), right = Math.min(width - RIGHT, x(fault.endS));
      var element = faultElements[index];
      element.hidden = right < GUTTER || left > width - RIGHT;
      element.style.left = left + "px";
      element.style.width = Math.max(2, right - left) + "px";
    });
    // Labels closer than a label's width on the same row are hidden (the marker and its hover stay).
    var lastLabelRight = [-1e9, -1e9];
    data.leaders.forEach(function (change, index) {
      var element = leaderElements[index], at = x(change.timeS), row = index % 2;
      element.hidden = at < GUTTER || at > width - RIGHT;
      element.style.left = at + "px";
      var label = element.firstChild;
      label.hidden = at < lastLabelRight[row] + 4;
      if (!label.hidden) { lastLabelRight[row] = at + label.textContent.length * 7 + 6; }
    });
    if (anomalyElement) {
      var at = x(data.anomaly.timeS);
      anomalyElement.hidden = at < GUTTER || at > width - RIGHT;
      anomalyElement.style.left = at + "px";
      // Keep the label inside the plot near the right edge.
      anomalyElement.firstChild.style.left = at > width - 260 ? "auto" : "4px";
      anomalyElement.firstChild.style.right = at > width - 260 ? "4px" : "auto";
    }
  }

  function layout() {
    width = root.clientWidth;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(height * ratio);
    canvas.style.height = height + "px";
    root.style.height = height + "px";
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    draw();
  }

  function requestDraw() {
    if (drawPending) { return; }
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; draw(); });
  }

  /** Bins [first, last) behind pixel column px. */
  function binsOfColumn(px) {
    var first = Math.max(0, Math.floor(timeAt(px) / data.binS));
    var last = Math.min(binCount, Math.max(first + 1, Math.floor(timeAt(px + 1) / data.binS)));
    return [first, last];
  }

  function draw() {
    context.clearRect(0, 0, width, height);
    var columns = Math.ceil(plotWidth());
    // Throughput: completed operations per second in each pixel column, stacked by outcome.
    var rates = [], top = 1;
    for (var column = 0; column < columns; column++) {
      var range = binsOfColumn(GUTTER + column);
      var sums = [0, 0, 0];
      for (var bin = range[0]; bin < range[1]; bin++) { sums[0] += data.ok[bin]; sums[1] += data.fail[bin]; sums[2] += data.info[bin]; }
      var seconds = (range[1] - range[0]) * data.binS;
      var rate = [sums[0] / seconds, sums[1] / seconds, sums[2] / seconds];
      rates.push(rate);
      if (range[0] < binCount && rate[0] + rate[1] + rate[2] > top) { top = rate[0] + rate[1] + rate[2]; }
    }
    for (column = 0; column < columns; column++) {
      var base = throughputTop + THROUGHPUT;
      for (var kind = 0; kind < 3; kind++) {
        var h = rates[column][kind] / top * (THROUGHPUT - 4);
        if (h > 0) { context.fillStyle = COLORS[kind]; context.fillRect(GUTTER + column, base - h, 1, h); base -= h; }
      }
    }
    // Latency scatter on a log scale.
    var logMin = Math.log10(0.1), logSpan = Math.log10(latencyMax * 1.2) - logMin;
    function latencyY(ms) { return latencyTop + LATENCY - (Math.log10(Math.max(0.1, ms)) - logMin) / logSpan * LATENCY; }
    for (var point = 0; point < data.pointTimeS.length; point++) {
      var px = x(data.pointTimeS[point]);
      if (px < GUTTER || px > width - RIGHT) { continue; }
      context.fillStyle = COLORS[data.pointKind[point]];
      context.fillRect(px - 1, latencyY(data.pointLatencyMs[point]) - 1, 2, 2);
    }
    // Lanes: the worst outcome running in each column.
    data.lanes.forEach(function (lane, index) {
      var y = lanesTop + index * laneHeight;
      if (index % 2 === 1) { context.fillStyle = "#f1f3f5"; context.fillRect(GUTTER, y, plotWidth(), laneHeight); }
      for (var column = 0; column < columns; column++) {
        var range = binsOfColumn(GUTTER + column), worst = ".";
        for (var bin = range[0]; bin < range[1]; bin++) {
          var mark = lane.bins.charAt(bin);
          if (mark === "i" || (mark === "f" && worst !== "i") || (mark === "o" && worst === ".")) { worst = mark; }
        }
        if (worst !== ".") { context.fillStyle = LANE_COLORS[worst]; context.fillRect(GUTTER + column, y + 1, 1, laneHeight - 1); }
      }
    });
    // Gutter labels and the axis.
    context.fillStyle = "#495057";
    context.font = "11px system-ui, sans-serif";
    context.textBaseline = "middle";
    context.fillText("ops/s (max " + Math.round(top) + ")", 2, throughputTop + 8);
    context.fillText("latency", 2, latencyTop + 8);
    context.fillText(Math.round(latencyMax) + " ms", 2, latencyTop + 22);
    context.fillText("0.1 ms", 2, latencyTop + LATENCY - 6);
    if (laneHeight >= 9) {
      context.font = "9px system-ui, sans-serif";
      data.lanes.forEach(function (lane, index) { context.fillText(lane.label, 2, lanesTop + index * laneHeight + laneHeight / 2); });
    } else {
      context.fillText(data.lanes.length + " " + data.laneKind + "es".slice(data.laneKind === "process" ? 0 : 1), 2, lanesTop + 8);
    }
    context.font = "11px system-ui, sans-serif";
    context.fillRect(GUTTER, plotBottom, plotWidth(), 1);
    var span = view.end - view.start, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    if (span / step > 20) { step *= 5; } else if (span / step > 10) { step *= 2; }
    for (var tick = Math.ceil(view.start / step) * step; tick <= view.end + 1e-9; tick += step) {
      var tx = x(tick);
      context.fillRect(tx, plotBottom, 1, 4);
      context.fillText((step < 1 ? tick.toFixed(Math.min(3, Math.ceil(-Math.log10(step)))) : String(Math.round(tick))) + " s", tx - 8, plotBottom + 13);
    }
    place();
    drawCount++;
  }
  var drawCount = 0;

  /** What is at run time timeS (and lane, when y falls on one): counts, faults, leader changes, anomaly. */
  function describeAt(timeS, y) {
    var lines = ["t = " + fmt(timeS)];
    var bin = Math.min(binCount - 1, Math.max(0, Math.floor(timeS / data.binS)));
    var first = Math.max(0, bin - 2), last = Math.min(binCount, bin + 3), sums = [0, 0, 0];
    for (var index = first; index < last; index++) { sums[0] += data.ok[index]; sums[1] += data.fail[index]; sums[2] += data.info[index]; }
    lines.push("completed in " + fmt(first * data.binS) + " to " + fmt(last * data.binS) + ": " + sums[0] + " ok, " + sums[1] + " fail, " + sums[2] + " info");
    if (y !== undefined && y >= lanesTop && y < plotBottom) {
      var lane = data.lanes[Math.floor((y - lanesTop) / laneHeight)];
      var mark = lane ? lane.bins.charAt(bin) : ".";
      if (lane) { lines.push(lane.label + ": " + ({ ".": "idle", o: "ok", f: "fail", i: "info (outcome unknown)" })[mark]); }
    }
    var tolerance = 4 / plotWidth() * (view.end - view.start);
    data.faults.forEach(function (fault) {
      if (fault.startS <= timeS && timeS <= fault.endS) {
        lines.push("fault: " + fault.kind + (fault.targets ? " on " + fault.targets : "") + " from " + fmt(fault.startS) + " to " + fmt(fault.endS) + (fault.failed ? " (not injected)" : "") + "\n  " + fault.detail);
      }
    });
    data.leaders.forEach(function (change) {
      if (Math.abs(change.timeS - timeS) <= tolerance) {
        lines.push("leader change: node " + change.node + " became leader" + (change.term === null ? "" : " in term " + change.term) + " at " + fmt(change.timeS));
      }
    });
    if (data.anomaly && Math.abs(data.anomaly.timeS - timeS) <= tolerance) {
      lines.push("first anomaly (" + data.anomaly.check + "): " + data.anomaly.text);
    }
    return lines.join("\n");
  }

  function hover(event) {
    var box = root.getBoundingClientRect();
    var px = event.clientX - box.left, py = event.clientY - box.top;
    if (px < GUTTER || px > width - RIGHT || py > plotBottom) { tooltip.hidden = true; return; }
    tooltip.textContent = describeAt(timeAt(px), py);
    tooltip.hidden = false;
    tooltip.style.left = Math.min(px + 12, width - 360) + "px";
    tooltip.style.top = (py + 14) + "px";
  }
  root.addEventListener("mousemove", hover);
  root.addEventListener("mouseleave", function () { tooltip.hidden = true; });
  root.addEventListener("click", function (event) {
    var box = root.getBoundingClientRect();
    var px = event.clientX - box.left;
    if (px < GUTTER || px > width - RIGHT) { return; }
    details.textContent = describeAt(timeAt(px), event.clientY - box.top);
  });

  function setView(start, end) {
    var span = Math.min(data.durationS, Math.max(data.durationS / 2000, end - start));
    start = Math.min(Math.max(0, start), data.durationS - span);
    view.start = start; view.end = start + span;
    tooltip.hidden = true;
    requestDraw();
  }
  function zoom(factor, centerS) {
    var center = centerS === undefined ? (view.start + view.end) / 2 : centerS;
    setView(center - (center - view.start) / factor, center + (view.end - center) / factor);
  }
  document.getElementById("timeline-zoom-in").addEventListener("click", function () { zoom(2); });
  document.getElementById("timeline-zoom-out").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("timeline-fit").addEventListener("click", function () { setView(0, data.durationS); });
  // A plain vertical wheel scrolls the page as everywhere else; ctrl zooms, shift or a sideways wheel pans.
  root.addEventListener("wheel", function (event) {
    var box = root.getBoundingClientRect();
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      zoom(event.deltaY < 0 ? 1.25 : 0.8, timeAt(event.clientX - box.left));
    } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      event.preventDefault();
      var shift = (event.deltaX || event.deltaY) / plotWidth() * (view.end - view.start);
      setView(view.start + shift, view.end + shift);
    }
  }, { passive: false });
  var dragFrom = null;
  root.addEventListener("mousedown", function (event) { dragFrom = { x: event.clientX, start: view.start, end: view.end }; });
  window.addEventListener("mouseup", function () { dragFrom = null; });
  window.addEventListener("mousemove", function (event) {
    if (!dragFrom || event.buttons !== 1) { return; }
    var shift = -(event.clientX - dragFrom.x) / plotWidth() * (dragFrom.end - dragFrom.start);
    setView(dragFrom.start + shift, dragFrom.end + shift);
  });
  window.addEventListener("resize", layout);

  window.raftlabTimeline = {
    get view() { return { start: view.start, end: view.end }; },
    get draws() { return drawCount; },
    /** Client coordinates of run time timeS on the throughput row. */
    pointAt: function (timeS) { var box = root.getBoundingClientRect(); return { x: box.left + x(timeS), y: box.top + throughputTop + THROUGHPUT / 2 }; },
    describeAt: describeAt,
    zoom: zoom,
    setView: setView,
    draw: draw,
  };
  layout();
  performance.mark("raftlab-timeline-rendered");
})();
`;
