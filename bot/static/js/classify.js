// Offer only the chosen strategy's sub-areas (progressive: without JS every option stays).
(function () {
  "use strict";
  var pairs = [["c-strategy", "c-subarea"], ["f-strategy", "f-subarea"]];
  pairs.forEach(function (ids) {
    var strategy = document.getElementById(ids[0]);
    var subarea = document.getElementById(ids[1]);
    if (!strategy || !subarea) { return; }
    function sync() {
      var chosen = strategy.value;
      var groups = subarea.querySelectorAll("optgroup");
      groups.forEach(function (group) {
        var match = !chosen || group.getAttribute("data-strategy") === chosen;
        group.hidden = !match;
        group.disabled = !match;
      });
      var selected = subarea.options[subarea.selectedIndex];
      if (selected && selected.parentElement && selected.parentElement.disabled) {
        subarea.value = "";
      }
    }
    strategy.addEventListener("change", sync);
    sync();
  });
})();
