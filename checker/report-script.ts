// The HTML view's browser script, as a string (plain JavaScript, no dependencies). It reads the
// JSON data block, draws visible lanes on a canvas under a scrolling spacer, and exposes
// `window.raftlabReport` for tests (lane and bar counts, selection, bar positions).
export const reportScript = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  // Run times of each operation in milliseconds, decoded from the data's microsecond deltas.
  var operationStartMs = new Float64Array(data.operationStartDeltaUs.length);
  var operationEndMs = new Float64Array(data.operationStartDeltaUs.length);
  for (var decoded = 0, startUs = 0; decoded < operationStartMs.length; decoded++) {
    startUs += data.operationStartDeltaUs[decoded];
    operationStartMs[decoded] = startUs / 1000;
    operationEndMs[decoded] = (startUs + data.operationDurationUs[decoded]) / 1000;
  }
  var KIND_OK = 0, KIND_FAIL = 1, KIND_INFO = 2, KIND_OPEN = 3;
  var COLORS = ["#4caf68", "#a3abb5", "#e0a526", "#e0a526"];
  var LANE_HEIGHT = 18, GUTTER = 76, AXIS = 18;
  var operationCount = data.operationLane.length;
  var laneOperations = data.lanes.map(function () { return []; });
  for (var op = 0; op < operationCount; op++) { laneOperations[data.operationLane[op]].push(op); }
  // Lanes hold one open operation at a time, so each lane is sorted by start and by end.
  laneOperations.forEach(function (ops) { ops.sort(function (a, b) { return data.operationStart[a] - data.operationStart[b]; }); });

  // Where each operation stands in its partition's linearization (or longest prefix).
  var orderPosition = new Int32Array(operationCount).fill(-1);
  var badOperations = new Set();
  // Operations of a violation's cycle (found without a search): outlined, and listed instead of a prefix.
  var witnessOperations = new Set();
  data.partitions.forEach(function (partition) {
    partition.order.forEach(function (op, position) { if (op >= 0) { orderPosition[op] = position; } });
    if (partition.badOperation >= 0) { badOperations.add(partition.badOperation); }
    (partition.witness || []).forEach(function (step) {
      if (step.before >= 0) { witnessOperations.add(step.before); }
      if (step.after >= 0) { witnessOperations.add(step.after); }
    });
  });

  var canvas = document.getElementById("canvas");
  var scroller = document.getElementById("scroller");
  var spacer = document.getElementById("spacer");
  var tooltip = document.getElementById("tooltip");
  var details = document.getElementById("details");
  var select = document.getElementById("partition");
  var prefixBox = document.getElementById("prefix");
  var prefixRows = document.getElementById("prefix-rows");
  var prefixSpacer = document.getElementById("prefix-spacer");
  var context = canvas.getContext("2d");
  var scale = 1; // pixels per unit of the axis: an event, or a millisecond in the wall-time view
  var mode = "event"; // or "time": x is run time, lanes labelled with the nodes that answered
  function startOf(op) { return mode === "time" ? operationStartMs[op] : data.operationStart[op]; }
  function endOf(op) { return mode === "time" ? operationEndMs[op] : data.operationEnd[op]; }
  function extent() { return mode === "time" ? data.durationMs : data.eventCount; }
  var selectedPartition = -1;
  var selectedOperation = -1;
  var drawnBars = 0;
  var drawPending = false;

  document.getElementById("file").textContent = data.file;
  document.getElementById("summary").textContent = operationCount + " operations, " + data.lanes.length + " processes, " +
    data.partitions.length + " partitions, plugin " + data.plugin + ", checked in " + data.elapsedMs + " ms" + (data.reason ? " (" + data.reason + ")" : "");
  var all = document.createElement("option");
  all.value = "-1"; all.textContent = "all (" + data.partitions.length + ")";
  select.appendChild(all);
  data.partitions.forEach(function (partition, index) {
    var option = document.createElement("option");
    option.value = String(index);
    option.textContent = (partition.key === null ? "(whole history)" : JSON.stringify(partition.key)) + ": " + partition.verdict + ", " + partition.operationCount + " ops";
    select.appendChild(option);
  });
  select.addEventListener("change", function () { selectPartition(Number(select.value)); });

  function layout() {
    var width = GUTTER + extent() * scale + 40;
    spacer.style.width = Math.max(1, width) + "px";
    spacer.style.height = (AXIS + data.lanes.length * LANE_HEIGHT + 20) + "px";
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(scroller.clientWidth * ratio);
    canvas.height = Math.floor(scroller.clientHeight * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    requestDraw();
  }

  function fitScale() { return Math.max(1e-6, (scroller.clientWidth - GUTTER - 40) / Math.max(1, extent())); }

  function zoom(factor) {
    var centerEvent = (scroller.scrollLeft + (scroller.clientWidth - GUTTER) / 2) / scale;
    scale = Math.min(mode === "time" ? 1e4 : 64, Math.max(fitScale(), scale * factor));
    layout();
    scroller.scrollLeft = centerEvent * scale - (scroller.clientWidth - GUTTER) / 2;
  }
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(2); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("zoom-fit").addEventListener("click", function () { scale = fitScale(); layout(); });
  scroller.addEventListener("wheel", function (event) {
    if (event.ctrlKey || event.metaKey) { event.preventDefault(); zoom(event.deltaY < 0 ? 1.25 : 0.8); }
  }, { passive: false });
  scroller.addEventListener("scroll", requestDraw);
  window.addEventListener("resize", layout);

  function requestDraw() {
    if (drawPending) { return; }
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; draw(); });
  }

  function barX(eventIndex) { return GUTTER + eventIndex * scale - scroller.scrollLeft; }
  function laneY(lane) { return AXIS + lane * LANE_HEIGHT - scroller.scrollTop; }

  /** First operation of the lane whose end is at or after eventIndex (ends are sorted too). */
  function firstEndingAfter(ops, eventIndex) {
    var low = 0, high = ops.length;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (endOf(ops[middle]) < eventIndex) { low = middle + 1; } else { high = middle; }
    }
    return low;
  }

  function draw() {
    var width = scroller.clientWidth, height = scroller.clientHeight;
    context.clearRect(0, 0, width, height);
    drawnBars = 0;
    var firstLane = Math.max(0, Math.floor((scroller.scrollTop - AXIS) / LANE_HEIGHT));
    var lastLane = Math.min(data.lanes.length - 1, Math.ceil((scroller.scrollTop + height) / LANE_HEIGHT));
    var firstEvent = scroller.scrollLeft / scale - 1;
    var lastEvent = (scroller.scrollLeft + width - GUTTER) / scale + 1;
    context.font = "11px ui-monospace, monospace";
    context.textBaseline = "middle";
    for (var lane = firstLane; lane <= lastLane; lane++) {
      var ops = laneOperations[lane];
      var y = laneY(lane);
      if (lane % 2 === 1) { context.fillStyle = "#f6f8fa"; context.fillRect(GUTTER, y, width - GUTTER, LANE_HEIGHT); }
      for (var index = firstEndingAfter(ops, firstEvent); index < ops.length; index++) {
        var op = ops[index];
        if (startOf(op) > lastEvent) { break; }
        drawBar(op, y);
      }
    }
    drawBands(height);
    // Gutter and axis drawn last so bars scroll under them.
    context.fillStyle = "#fff";
    context.fillRect(0, 0, GUTTER, height);
    context.fillRect(0, 0, width, AXIS);
    context.fillStyle = "#4b5563";
    for (lane = firstLane; lane <= lastLane; lane++) {
      context.fillText(laneLabel(lane), 6, laneY(lane) + LANE_HEIGHT / 2);
    }
    // Ticks at least 80 px apart, on 1, 2 or 5 times a power of ten (whole events in the event view).
    var rough = Math.max(mode === "time" ? 1e-3 : 1, 80 / scale);
    var step = Math.pow(10, Math.ceil(Math.log10(rough)));
    if (step / 5 >= rough) { step /= 5; } else if (step / 2 >= rough) { step /= 2; }
    if (mode !== "time") { step = Math.max(1, Math.round(step)); }
    for (var tick = Math.max(0, Math.floor(firstEvent / step) * step); tick <= lastEvent; tick += step) {
      var x = barX(tick);
      if (x >= GUTTER) { context.fillRect(x, AXIS - 5, 1, 5); context.fillText(mode === "time" ? formatSeconds(tick / 1000, step / 1000) : String(tick), x + 2, 8); }
    }
    context.fillText(mode === "time" ? "run time" : "event", 6, 8);
  }

  function drawBar(op, y) {
    var x0 = barX(startOf(op));
    var end = endOf(op);
    var x1 = barX(end);
    var kind = data.operationKind[op];
    var dimmed = selectedPartition >= 0 && data.operationPartition[op] !== selectedPartition;
    context.globalAlpha = dimmed ? 0.18 : 1;
    context.fillStyle = COLORS[kind];
    var barWidth = Math.max(1, x1 - x0);
    context.fillRect(x0, y + 3, barWidth, LANE_HEIGHT - 6);
    if (kind === KIND_INFO || kind === KIND_OPEN) {
      // It may take effect at any time after its call: a dashed tail to the end of the history.
      context.strokeStyle = COLORS[KIND_INFO];
      context.setLineDash([3, 3]);
      context.beginPath(); context.moveTo(x1, y + LANE_HEIGHT / 2); context.lineTo(barX(extent()), y + LANE_HEIGHT / 2); context.stroke();
      context.setLineDash([]);
    }
    var position = orderPosition[op];
    if (position >= 0 && !dimmed) {
      context.fillStyle = "#2563eb";
      context.fillRect(x0, y + LANE_HEIGHT - 4, barWidth, 2);
      if (barWidth > 28) { context.fillStyle = "#10213f"; context.fillText("#" + (position + 1), x0 + 3, y + LANE_HEIGHT / 2 - 1); }
    }
    if (witnessOperations.has(op) && !badOperations.has(op) && !dimmed) {
      context.strokeStyle = "#e07a00"; context.lineWidth = 2;
      context.strokeRect(x0 - 1, y + 2, barWidth + 2, LANE_HEIGHT - 4);
      context.lineWidth = 1;
    }
    if (badOperations.has(op) && !dimmed) {
      context.strokeStyle = "#d0021b"; context.lineWidth = 2;
      context.strokeRect(x0 - 1, y + 2, barWidth + 2, LANE_HEIGHT - 4);
      context.fillStyle = "#d0021b"; context.fillText("\u2717", x0 - 12, y + LANE_HEIGHT / 2);
      context.lineWidth = 1;
    }
    if (op === selectedOperation) {
      context.strokeStyle = "#111"; context.lineWidth = 2;
      context.strokeRect(x0 - 2, y + 1, barWidth + 4, LANE_HEIGHT - 2);
      context.lineWidth = 1;
    }
    context.globalAlpha = 1;
    drawnBars++;
  }

  function operationAt(clientX, clientY) {
    var box = scroller.getBoundingClientRect();
    var x = clientX - box.left, y = clientY - box.top;
    if (x < GUTTER || y < AXIS) { return -1; }
    var lane = Math.floor((y + scroller.scrollTop - AXIS) / LANE_HEIGHT);
    if (lane < 0 || lane >= data.lanes.length) { return -1; }
    var eventIndex = (x - GUTTER + scroller.scrollLeft) / scale;
    var ops = laneOperations[lane];
    // Bars are at least 1 px wide: accept a click within 3 px of a short bar.
    var slack = 3 / scale;
    for (var index = firstEndingAfter(ops, eventIndex - slack); index < ops.length; index++) {
      var op = ops[index];
      if (startOf(op) > eventIndex + slack) { break; }
      return op;
    }
    return -1;
  }

  function describe(op) {
    var partitionIndex = data.operationPartition[op];
    var lines = [data.operationText[op], laneLabel(data.operationLane[op]) + ", line " + data.operationInvokeLine[op] +
      (data.operationCompletionLine[op] ? "-" + data.operationCompletionLine[op] : " (never completed)") +
      ", " + formatSeconds(operationStartMs[op] / 1000, 0.001) + (data.operationCompletionLine[op] ? " to " + formatSeconds(operationEndMs[op] / 1000, 0.001) : "")];
    var inForce = faultsOver(operationStartMs[op], operationEndMs[op]);
    if (inForce.length > 0) { lines.push("faults in force: " + inForce.join("; ")); }
    if (partitionIndex < 0) { lines.push("failed: it did not happen, so the checker ignores it"); return { text: lines.join("\n"), bad: false }; }
    var partition = data.partitions[partitionIndex];
    lines.push("partition " + (partition.key === null ? "(whole history)" : JSON.stringify(partition.key)) + " (" + partition.verdict + ")");
    var position = orderPosition[op];
    if (op === partition.badOperation && partition.violation !== null) {
      lines.push("CANNOT BE LINEARIZED: " + partition.violation);
      return { text: lines.join("\n"), bad: true };
    }
    if (partition.witness !== null && witnessOperations.has(op)) {
      lines.push("part of the cycle of orders that no linearization meets (listed on the right)");
      return { text: lines.join("\n"), bad: false };
    }
    if (op === partition.badOperation) {
      lines.push("CANNOT BE LINEARIZED after the longest prefix (" + partition.order.length + " ops)");
      lines.push("model state at that point: " + partition.stateBefore);
      return { text: lines.join("\n"), bad: true };
    }
    if (position >= 0) {
      lines.push((partition.verdict === "ok" ? "linearized #" : "prefix #") + (position + 1) + " of " + partition.order.length);
      lines.push("state before: " + (position > 0 ? partition.statesAfter[position - 1] : "(initial)"));
      lines.push("state after:  " + partition.statesAfter[position]);
    } else {
      lines.push(partition.verdict === "ok" ? "not needed (an info op that need not have happened)" : "not in the longest linearizable prefix");
    }
    return { text: lines.join("\n"), bad: false };
  }

  function selectOperation(op) {
    selectedOperation = op;
    details.textContent = "";
    if (op >= 0) {
      var description = describe(op);
      var text = document.createElement("div");
      text.textContent = description.text;
      if (description.bad) { text.className = "bad-op"; }
      details.appendChild(text);
    }
    renderPrefix();
    requestDraw();
  }

  scroller.addEventListener("click", function (event) { selectOperation(operationAt(event.clientX, event.clientY)); });
  scroller.addEventListener("mousemove", function (event) {
    var op = operationAt(event.clientX, event.clientY);
    if (op < 0) { tooltip.hidden = true; return; }
    var box = scroller.getBoundingClientRect();
    tooltip.textContent = describe(op).text;
    tooltip.hidden = false;
    tooltip.style.left = Math.min(event.clientX - box.left + 12, box.width - 300) + "px";
    tooltip.style.top = (event.clientY - box.top + 14) + "px";
  });
  scroller.addEventListener("mouseleave", function () { tooltip.hidden = true; });

  // The prefix list, virtualised like the canvas: only rows in view exist in the DOM.
  var ROW_HEIGHT = 18;
  function listedPartition() {
    if (selectedPartition >= 0) { return selectedPartition; }
    var firstProblem = data.partitions.findIndex(function (partition) { return partition.verdict !== "ok"; });
    return firstProblem >= 0 ? firstProblem : (data.partitions.length > 0 ? 0 : -1);
  }
  function prefixEntries(partition) {
    if (partition.witness !== null) { return partition.witness.length + 1; }
    return partition.order.length + (partition.badOperation >= 0 ? 1 : 0);
  }
  function witnessOperationText(op) {
    return op < 0 ? "the initial state" : data.operationText[op] + " (p" + data.lanes[data.operationLane[op]] + ", " + formatSeconds(operationStartMs[op] / 1000, 0.001) + ")";
  }
  var BECAUSE = { "real-time": "the first returned before the second was called", "read-from": "the second read the value the first wrote", "write-order": "the first's value was current before the second's (each value is written once)" };
  function renderPrefix() {
    var partitionIndex = listedPartition();
    var title = document.getElementById("prefix-title");
    prefixRows.textContent = "";
    if (partitionIndex < 0) { title.textContent = ""; prefixSpacer.style.height = "0px"; return; }
    var partition = data.partitions[partitionIndex];
    var name = partition.key === null ? "(whole history)" : JSON.stringify(partition.key);
    title.textContent = partition.witness !== null
      ? "Why " + name + " cannot be linearized: a cycle of " + partition.witness.length + " orders"
      : (partition.verdict === "ok" ? "Linearization of " : "Longest linearizable prefix of ") + name + " (" + partition.order.length + " ops)";
    var total = prefixEntries(partition);
    prefixSpacer.style.height = total * ROW_HEIGHT + "px";
    var first = Math.max(0, Math.floor(prefixBox.scrollTop / ROW_HEIGHT) - 5);
    var last = Math.min(total, first + Math.ceil(prefixBox.clientHeight / ROW_HEIGHT) + 10);
    prefixRows.style.top = first * ROW_HEIGHT + "px";
    for (var index = first; index < last; index++) {
      var row = document.createElement("div");
      var op;
      if (partition.witness !== null) {
        if (index === 0) {
          op = partition.badOperation;
          row.className = "row bad-op";
          row.textContent = "\u2717 " + (partition.violation || "no order is legal");
        } else {
          var step = partition.witness[index - 1];
          op = step.after >= 0 ? step.after : step.before;
          row.className = "row";
          row.textContent = index + ". " + witnessOperationText(step.before) + " before " + witnessOperationText(step.after) + ": " + (BECAUSE[step.because] || step.because);
        }
      } else if (index < partition.order.length) {
        op = partition.order[index];
        row.className = "row";
        row.textContent = (index + 1) + ". " + data.operationText[op] + "  \u21d2 " + partition.statesAfter[index];
      } else {
        op = partition.badOperation;
        row.className = "row bad-op";
        row.textContent = "\u2717 " + data.operationText[op] + "  (state " + partition.stateBefore + ")";
      }
      if (op === selectedOperation) { row.className += " selected"; }
      row.dataset.operation = String(op);
      prefixRows.appendChild(row);
    }
  }
  prefixBox.addEventListener("scroll", renderPrefix);
  prefixRows.addEventListener("click", function (event) {
    var op = Number(event.target.dataset && event.target.dataset.operation);
    if (op >= 0) { scrollToOperation(op); selectOperation(op); }
  });

  function scrollToOperation(op) {
    var x = GUTTER + startOf(op) * scale;
    var y = AXIS + data.operationLane[op] * LANE_HEIGHT;
    if (x < scroller.scrollLeft + GUTTER || x > scroller.scrollLeft + scroller.clientWidth - 40) { scroller.scrollLeft = x - scroller.clientWidth / 2; }
    if (y < scroller.scrollTop + AXIS || y > scroller.scrollTop + scroller.clientHeight - LANE_HEIGHT) { scroller.scrollTop = y - scroller.clientHeight / 2; }
  }

  function selectPartition(index) {
    selectedPartition = index;
    select.value = String(index);
    prefixBox.scrollTop = 0;
    var partition = data.partitions[index];
    if (partition && partition.badOperation >= 0) { scrollToOperation(partition.badOperation); }
    renderPrefix();
    requestDraw();
  }

  function laneLabel(lane) {
    var nodes = data.laneNodes[lane];
    return "p" + data.lanes[lane] + (mode === "time" && nodes ? " n" + nodes : "");
  }
  function formatSeconds(timeS, step) {
    return timeS.toFixed(Math.max(0, Math.min(3, Math.ceil(-Math.log10(step))))) + " s";
  }
  function faultLabel(fault) { return fault.f + (fault.targets ? " " + fault.targets : ""); }
  function faultsOver(fromMs, toMs) {
    return data.faults.filter(function (fault) { return fault.startMs <= toMs && fromMs <= fault.endMs; }).map(function (fault) {
      return faultLabel(fault) + " (" + formatSeconds(fault.startMs / 1000, 0.001) + " to " + formatSeconds(fault.endMs / 1000, 0.001) + ")";
    });
  }

  // Fault windows, shaded over the lanes and labelled, in either axis (nemesis events have indexes too).
  var drawnBandLabels = [];
  function drawBands(height) {
    drawnBandLabels = [];
    var width = scroller.clientWidth;
    data.faults.forEach(function (fault) {
      var x0 = Math.max(GUTTER, barX(mode === "time" ? fault.startMs : fault.startEvent));
      var x1 = Math.min(width, barX(mode === "time" ? fault.endMs : fault.endEvent));
      if (x1 < GUTTER || x0 > width) { return; }
      context.fillStyle = "rgba(250,176,5,0.16)";
      context.fillRect(x0, AXIS, Math.max(2, x1 - x0), height - AXIS);
      context.fillStyle = "#f08c00";
      context.fillRect(x0, AXIS, 1, height - AXIS);
      var label = faultLabel(fault);
      context.font = "11px system-ui, sans-serif";
      var labelWidth = context.measureText(label).width + 6;
      context.fillStyle = "rgba(255,244,214,0.92)";
      context.fillRect(x0 + 1, AXIS + 1, labelWidth, 14);
      context.fillStyle = "#7c4a00";
      context.fillText(label, x0 + 4, AXIS + 8);
      context.font = "11px ui-monospace, monospace";
      drawnBandLabels.push(label);
    });
  }

  function setMode(next) {
    if (next === mode) { return; }
    var keep = selectedOperation >= 0 ? selectedOperation : (badOperations.size > 0 ? Array.from(badOperations)[0] : -1);
    mode = next;
    document.getElementById("axis-event").className = mode === "event" ? "active" : "";
    document.getElementById("axis-time").className = mode === "time" ? "active" : "";
    scale = fitScale();
    if (keep >= 0) {
      // Zoom so that the operation of interest is a readable bar, and show it.
      var barWidth = (endOf(keep) - startOf(keep)) * scale;
      if (barWidth < 24) { scale = Math.min(mode === "time" ? 1e4 : 64, scale * 24 / Math.max(1e-9, barWidth)); }
    }
    layout();
    if (keep >= 0) { scrollToOperation(keep); }
    draw();
  }
  document.getElementById("axis-event").addEventListener("click", function () { setMode("event"); });
  document.getElementById("axis-time").addEventListener("click", function () { setMode("time"); });

  window.raftlabReport = {
    get mode() { return mode; },
    setMode: setMode,
    get bandLabels() { return drawnBandLabels.slice(); },
    laneLabels: function () { return data.lanes.map(function (_, lane) { return laneLabel(lane); }); },
    lanes: data.lanes.length,
    operations: operationCount,
    get drawnBars() { return drawnBars; },
    get selectedOperation() { return selectedOperation; },
    badOperations: Array.from(badOperations),
    selectPartition: selectPartition,
    /** Scrolls the operation into view and returns the client coordinates of its bar's middle. */
    barCenter: function (op) {
      scrollToOperation(op);
      draw();
      var box = scroller.getBoundingClientRect();
      var x0 = barX(startOf(op)), x1 = barX(endOf(op));
      return { x: box.left + Math.max(GUTTER + 1, x0 + Math.max(1, x1 - x0) / 2), y: box.top + laneY(data.operationLane[op]) + LANE_HEIGHT / 2 };
    },
    draw: draw,
  };

  scale = fitScale();
  var firstProblem = data.partitions.findIndex(function (partition) { return partition.verdict === "illegal"; });
  if (firstProblem >= 0) {
    // Zoom so that the bad op's neighbourhood is readable.
    scale = Math.max(scale, 8);
  }
  layout();
  selectPartition(firstProblem);
  draw();
  performance.mark("raftlab-report-rendered");
})();
`;
