// The day board's drag to move (progressive: without JavaScript each visit block is a link to the
// edit form). Dragging a visit block sideways changes its start, onto another row its worker; on
// release the edit form is filled in and sent as "Check", so the independent checker's verdict is
// shown before anything is saved ("Save as a new draft" then saves it). No inline script (CSP).
(function () {
  "use strict";
  var board = document.querySelector("table.board-table[data-scale]");
  var form = document.querySelector("form.edit-form");
  if (!board || !form) { return; }
  var scale = Number(board.dataset.scale) || 1;
  var firstHour = Number(board.dataset.firstHour) || 0;
  var STEP = 5; // minutes: starts snap to five-minute steps
  var drag = null;
  var suppressClick = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clockOf(minutesFromFirstHour) {
    var total = firstHour * 60 + Math.round(minutesFromFirstHour / STEP) * STEP;
    total = Math.max(0, Math.min(total, 23 * 60 + 55));
    return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  }

  board.addEventListener("dragstart", function (e) {
    if (e.target.closest && e.target.closest("a.visit-link")) { e.preventDefault(); }
  });

  board.addEventListener("pointerdown", function (e) {
    var link = e.target.closest ? e.target.closest("a.visit-link") : null;
    if (!link || e.button !== 0) { return; }
    drag = { link: link, g: link.querySelector("g"), x0: e.clientX, y0: e.clientY, moved: false };
    e.preventDefault();
  });

  document.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var dx = e.clientX - drag.x0, dy = e.clientY - drag.y0;
    if (Math.abs(dx) > 4 || Math.abs(dy) > 4) { drag.moved = true; }
    if (drag.moved) {
      drag.g.setAttribute("transform", "translate(" + dx + ",0)");
      drag.g.classList.add("dragging");
    }
  });

  document.addEventListener("pointerup", function (e) {
    if (!drag) { return; }
    var d = drag;
    drag = null;
    d.g.removeAttribute("transform");
    d.g.classList.remove("dragging");
    if (!d.moved) { return; } // a click: the link opens the edit form
    suppressClick = true;
    var start = Number(d.link.dataset.startMin) + (e.clientX - d.x0) / scale;
    var target = document.elementFromPoint(e.clientX, e.clientY);
    var row = target && target.closest ? target.closest("tr[data-worker]") : null;
    form.querySelector("[name=visit]").value = d.link.dataset.request;
    var worker = form.querySelector("[name=worker]");
    if (worker) { worker.value = row && row.dataset.worker !== d.link.dataset.worker ? row.dataset.worker : ""; }
    form.querySelector("[name=start]").value = clockOf(start);
    var check = form.querySelector("button[name=action][value=check]");
    if (form.requestSubmit) { form.requestSubmit(check); } else { check.click(); }
  });

  board.addEventListener("click", function (e) {
    if (suppressClick) { suppressClick = false; e.preventDefault(); }
  }, true);
})();
