// Pharos progressive enhancement. Pages are complete without it.
"use strict";
document.querySelectorAll("time[datetime]").forEach(function (el) {
  var d = new Date(el.getAttribute("datetime"));
  if (!isNaN(d)) { el.title = el.textContent; el.textContent = d.toLocaleString(); }
});
