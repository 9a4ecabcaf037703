// The forum's table: classify each need as it is typed and preselect the guess, which staff
// may change before saving; "เพิ่มแถว" copies an empty row.
(function () {
  "use strict";
  var form = document.querySelector("[data-testid='forum-entry']");
  if (!form) { return; }
  var url = form.getAttribute("data-classify-url");
  var token = form.querySelector("input[name='csrf_token']").value;
  var rows = form.querySelector("[data-testid='entry-rows']");
  var maxRows = parseInt(form.getAttribute("data-max-rows"), 10) || 50;

  function classify(row) {
    var text = row.querySelector("[data-testid='entry-text']").value.trim();
    var guess = row.querySelector("[data-testid='entry-guess']");
    if (!text) { guess.textContent = ""; return; }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ text: text })
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (c) {
        if (!c) { return; }
        // Preselect only what staff have not chosen themselves.
        var kind = row.querySelector("[data-testid='entry-kind']");
        var strategy = row.querySelector("[data-testid='entry-strategy']");
        var subarea = row.querySelector("[data-testid='entry-subarea']");
        if (!row.dataset.touched) {
          kind.value = c.kind || "";
          strategy.value = c.strategy || "";
          subarea.value = c.subarea || "";
        }
        guess.textContent = "ระบบจัดให้: " + (c.strategy_name || "ไม่ระบุ") +
          (c.subarea_name ? " · " + c.subarea_name : "") +
          " (มั่นใจ " + Math.round(c.confidence * 100) + "%)" + (c.unsure ? " กรุณาตรวจสอบ" : "");
        row.dataset.classified = "1";
      });
  }

  function wire(row) {
    var timer = null;
    var text = row.querySelector("[data-testid='entry-text']");
    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { classify(row); }, 500);
    });
    text.addEventListener("blur", function () { clearTimeout(timer); classify(row); });
    row.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { row.dataset.touched = "1"; });
    });
  }

  Array.prototype.forEach.call(rows.children, wire);
  form.querySelector("[data-testid='entry-add-row']").addEventListener("click", function () {
    if (rows.children.length >= maxRows) { return; }
    var copy = rows.lastElementChild.cloneNode(true);
    copy.querySelectorAll("textarea, input").forEach(function (field) { field.value = ""; });
    copy.querySelectorAll("select").forEach(function (field) { field.value = ""; });
    copy.querySelector("[data-testid='entry-guess']").textContent = "";
    delete copy.dataset.touched;
    delete copy.dataset.classified;
    copy.querySelector(".entry-row__number").textContent = rows.children.length + 1;
    rows.appendChild(copy);
    wire(copy);
    copy.querySelector("textarea").focus();
  });
}());
