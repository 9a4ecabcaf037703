// The overview map: circle markers for located needs, read from a JSON data block.
// Values are set as text (never HTML): tracking numbers and statuses only, no residents' text.
(function () {
  "use strict";
  var box = document.getElementById("overview-map");
  var data = document.getElementById("overview-map-data");
  if (!box || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent || "[]");
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  }
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], { radius: 6, weight: 1, fillOpacity: 0.7 });
    var popup = document.createElement("div");
    var link = document.createElement(p.url ? "a" : "span");
    if (p.url) { link.href = p.url; }
    link.textContent = p.no;
    var status = document.createElement("div");
    status.textContent = p.status;
    popup.appendChild(link);
    popup.appendChild(status);
    marker.bindPopup(popup);
    marker.addTo(map);
    bounds.push([p.lat, p.lng]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 16); } else { map.fitBounds(bounds, { padding: [20, 20] }); }
  box.setAttribute("data-ready", String(points.length));
}());
