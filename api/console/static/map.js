// The routes map (Leaflet, vendored). Data comes from the page's data-map attribute (JSON), so no inline
// script is needed (CSP). Without a tile server (CAREPATH_MAP_TILES unset) the routes are drawn on a plain
// background: the map works offline.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("map");
    if (!el || !window.L) { return; }
    var data = JSON.parse(el.getAttribute("data-map") || "{}");
    var map = L.map(el, { preferCanvas: false });
    if (data.tiles) {
      L.tileLayer(data.tiles, { attribution: data.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var colours = ["#0b5394", "#a40000", "#1e5e20", "#6a1b9a", "#e65100", "#00695c", "#4e342e", "#283593"];
    var bounds = [];
    (data.routes || []).forEach(function (route, i) {
      var colour = colours[i % colours.length];
      var points = [];
      if (route.home) { points.push(route.home); bounds.push(route.home); }
      route.stops.forEach(function (s, n) {
        var p = [s.lat, s.lon];
        points.push(p);
        bounds.push(p);
        L.circleMarker(p, { radius: 6, color: colour, weight: 2, fillOpacity: 0.8 })
          .bindTooltip((n + 1) + ". " + s.start + " " + s.label + " (" + route.worker + ")")
          .addTo(map);
      });
      if (route.home) {
        L.circleMarker(route.home, { radius: 4, color: "#000", weight: 1, fillColor: "#fff", fillOpacity: 1 })
          .bindTooltip(route.worker).addTo(map);
      }
      if (points.length > 1) { L.polyline(points, { color: colour, weight: 3, opacity: 0.8 }).addTo(map); }
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20] }); } else { map.setView([50.87, 20.63], 12); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
