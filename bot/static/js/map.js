// Show a submission's location with the vendored Leaflet; tiles only when TILE_URL is set.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var lat = parseFloat(el.getAttribute("data-lat"));
  var lon = parseFloat(el.getAttribute("data-lon"));
  if (!isFinite(lat) || !isFinite(lon)) { return; }
  var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 17);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, {
      maxZoom: 19,
      attribution: "&copy; OpenStreetMap contributors"
    }).addTo(map);
  }
  L.marker([lat, lon], { keyboard: true, title: "ตำแหน่งที่แจ้ง" }).addTo(map);
})();
