// The public map: communities as circles sized by their count, and the listed needs at their
// approximate places (~100 m cells). Values are set as text, never HTML. With no tile URL, or
// when tiles cannot be loaded (an office without internet), the map goes on without them.
(function () {
  "use strict";
  var box = document.getElementById("public-map");
  var data = document.getElementById("public-map-data");
  if (!box || !data || typeof L === "undefined") { return; }
  var parsed = JSON.parse(data.textContent || "{}");
  var communities = parsed.communities || [];
  var points = parsed.points || [];
  var note = document.getElementById("public-map-note");
  if (!communities.length && !points.length) {
    box.hidden = true;
    if (note) { note.textContent = "ยังไม่มีตำแหน่งของชุมชนหรือเรื่องที่จะแสดงบนแผนที่"; }
    return;
  }
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = box.getAttribute("data-tiles");
  function offline() {
    box.classList.add("map--offline");
    box.setAttribute("data-offline", "1");
    if (note) { note.textContent = "แผนที่แบบไม่มีภาพพื้นหลัง: วงกลมคือชุมชน ขนาดตามจำนวนเรื่อง"; }
  }
  if (tiles) {
    var layer = L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" });
    var failures = 0;
    layer.on("tileerror", function () {
      failures += 1;
      if (failures === 3) { map.removeLayer(layer); offline(); }
    });
    layer.addTo(map);
  } else {
    offline();
  }
  var bounds = [];
  var largest = communities.reduce(function (m, c) { return Math.max(m, c.n); }, 1);
  communities.forEach(function (c) {
    var circle = L.circleMarker([c.lat, c.lng], {
      radius: 8 + 22 * Math.sqrt(c.n / largest), weight: 2, color: "#0b5fa5", fillOpacity: 0.25
    });
    circle.bindTooltip(c.name + " · " + c.n.toLocaleString("th-TH") + " เรื่อง",
      { permanent: true, direction: "center", className: "map-label" });
    circle.addTo(map);
    bounds.push([c.lat, c.lng]);
  });
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], { radius: 5, weight: 1, color: "#b3261e", fillOpacity: 0.8 });
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.no;
    var status = document.createElement("div");
    status.textContent = p.status;
    popup.appendChild(link);
    popup.appendChild(status);
    marker.bindPopup(popup);
    marker.addTo(map);
    bounds.push([p.lat, p.lng]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 15); } else { map.fitBounds(bounds, { padding: [20, 20] }); }
  box.setAttribute("data-ready", String(communities.length + points.length));
}());
