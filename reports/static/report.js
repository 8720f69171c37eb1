/* vmcheck report: sortable tables, the scenario filter, the "only changed
   pages" switch. Plain JavaScript, no network; pages work without it. */
"use strict";

function cellKey(row, index, numeric) {
  const cell = row.cells[index];
  const raw = cell.dataset.key !== undefined ? cell.dataset.key : cell.textContent.trim();
  if (!numeric) return raw.toLowerCase();
  const value = parseFloat(raw);
  return isNaN(value) ? -Infinity : value;
}

/* Clicking a header with data-sort sorts the body by that column;
   clicking it again reverses the order. */
function makeSortable(table) {
  const headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
  Array.from(headers).forEach(function (th, index) {
    if (!th.dataset.sort) return;
    th.addEventListener("click", function () {
      const ascending = !th.classList.contains("asc");
      Array.from(headers).forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(ascending ? "asc" : "desc");
      const numeric = th.dataset.sort === "num";
      const body = table.tBodies[0];
      const rows = Array.from(body.rows);
      rows.sort(function (a, b) {
        const x = cellKey(a, index, numeric), y = cellKey(b, index, numeric);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
}

/* The summary's scenario filter: text, area and verdict. */
function setupScenarioFilter() {
  const table = document.getElementById("scenario-table");
  if (!table) return;
  const text = document.getElementById("f-text");
  const area = document.getElementById("f-area");
  const verdict = document.getElementById("f-verdict");
  const count = document.getElementById("f-count");
  function apply() {
    // judged and not passed (results/model.py Verdict.failed)
    const NOT_FAILED = ["PASS", "NOT_JUDGED", "NOT_RUN"];
    const needle = text.value.trim().toLowerCase();
    let shown = 0;
    const rows = Array.from(table.tBodies[0].rows);
    rows.forEach(function (row) {
      const v = row.dataset.verdict;
      const okText = !needle || row.textContent.toLowerCase().includes(needle);
      const okArea = !area.value || row.dataset.area === area.value;
      const okVerdict = !verdict.value ||
        (verdict.value === "!PASS" ? NOT_FAILED.indexOf(v) < 0 : v === verdict.value);
      const visible = okText && okArea && okVerdict;
      row.hidden = !visible;
      if (visible) shown++;
    });
    count.textContent = shown + " of " + rows.length + " scenarios";
  }
  [text, area, verdict].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
}

/* Checkboxes with data-filter-table hide the rows of that table that
   neither changed nor failed a check. */
function setupChangedFilters() {
  document.querySelectorAll("input[data-filter-table]").forEach(function (box) {
    const table = document.getElementById(box.dataset.filterTable);
    if (!table) return;
    box.addEventListener("change", function () {
      Array.from(table.tBodies[0].rows).forEach(function (row) {
        const keep = row.classList.contains("chg") || row.classList.contains("viol");
        row.hidden = box.checked && !keep;
      });
    });
  });
}

/* The class heat map: a text filter on submission names, and an area
   filter that shows only that area's scenario columns. A link may set
   both: index.html#area=mmap&q=team */
function setupHeatmapFilter() {
  const table = document.getElementById("heatmap");
  if (!table) return;
  const text = document.getElementById("h-text");
  const area = document.getElementById("h-area");
  const count = document.getElementById("h-count");
  const given = new URLSearchParams(window.location.hash.slice(1));
  if (given.has("q")) text.value = given.get("q");
  if (given.has("area")) area.value = given.get("area");
  function apply() {
    const needle = text.value.trim().toLowerCase();
    table.querySelectorAll("[data-area]").forEach(function (cell) {
      cell.hidden = area.value !== "" && cell.dataset.area !== area.value;
    });
    let shown = 0;
    const rows = Array.from(table.tBodies[0].rows);
    rows.forEach(function (row) {
      row.hidden = needle !== "" && !row.dataset.name.toLowerCase().includes(needle);
      if (!row.hidden) shown++;
    });
    count.textContent = shown + " of " + rows.length + " submissions";
  }
  [text, area].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
}

document.querySelectorAll("table.sortable").forEach(makeSortable);
setupScenarioFilter();
setupChangedFilters();
setupHeatmapFilter();
