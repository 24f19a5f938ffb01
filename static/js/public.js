// Pharos public status page: progressive enhancement only. Without this
// script the page is complete; with it, times show in the viewer's zone, the
// uptime bars get keyboard navigation and tooltips, and the page follows live
// events without a reload.
"use strict";
(function () {
  var fmt = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      el.title = el.textContent;
      el.textContent = d.toLocaleString(undefined, fmt);
    });
  }

  // One tooltip serves every bar; the focused or hovered day describes
  // itself through it.
  var tip = document.createElement("div");
  tip.className = "tip";
  tip.id = "uptime-tip";
  tip.setAttribute("role", "tooltip");
  tip.setAttribute("data-testid", "uptime-tooltip");
  tip.hidden = true;

  function show(li) {
    tip.textContent = li.textContent;
    tip.hidden = false;
    li.setAttribute("aria-describedby", tip.id);
    var r = li.getBoundingClientRect();
    var left = Math.max(4, Math.min(r.left + window.scrollX - 80, document.documentElement.clientWidth - tip.offsetWidth - 4));
    tip.style.left = left + "px";
    tip.style.top = (r.bottom + window.scrollY + 6) + "px";
  }
  function hide() { tip.hidden = true; }

  function bars(root) {
    root.querySelectorAll("ol.bar").forEach(function (bar) {
      var days = bar.children;
      for (var i = 0; i < days.length; i++) {
        if (!days[i].hasAttribute("tabindex")) { days[i].setAttribute("tabindex", "-1"); }
      }
    });
  }

  function move(li, to) {
    if (!to || to === li) { return; }
    li.setAttribute("tabindex", "-1");
    to.setAttribute("tabindex", "0");
    to.focus();
  }

  document.addEventListener("keydown", function (e) {
    var li = e.target;
    if (!li.parentNode || !li.parentNode.classList || !li.parentNode.classList.contains("bar")) { return; }
    var bar = li.parentNode, to = null;
    switch (e.key) {
      case "ArrowLeft": to = li.previousElementSibling; break;
      case "ArrowRight": to = li.nextElementSibling; break;
      case "Home": to = bar.firstElementChild; break;
      case "End": to = bar.lastElementChild; break;
      case "Escape": hide(); return;
      default: return;
    }
    e.preventDefault();
    move(li, to);
  });
  function onDay(e) {
    var li = e.target;
    if (li.parentNode && li.parentNode.classList && li.parentNode.classList.contains("bar")) { show(li); }
  }
  document.addEventListener("focusin", onDay);
  document.addEventListener("mouseover", onDay);
  document.addEventListener("focusout", hide);
  document.addEventListener("mouseout", function (e) { if (e.target !== document.activeElement) { hide(); } });

  // Live updates: on an event, fetch the page again (the server answers
  // from its cache) and swap the regions marked data-live that changed.
  // A page the server marks stale (X-Pharos-Stale: its reload from the
  // database failed or took too long) is fetched again a little later, so
  // the change an event announced is not lost to one slow reload; while
  // it stays stale (the database is away), every page waits twice as long
  // as before, up to a minute, each with some jitter so that the pages an
  // event woke together do not come back together.
  var pending = null;
  var staleWait = 3;
  // jittered is secs in milliseconds, give or take a fifth: pages that one
  // event (or one refusal) sent waiting do not come back in step.
  function jittered(secs) { return secs * 1000 * (0.8 + 0.4 * Math.random()); }
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      fetch(location.href, { cache: "no-cache", headers: { Accept: "text/html" } })
        .then(function (r) {
          if (!r.ok) { return Promise.reject(r.status); }
          if (r.headers.get("X-Pharos-Stale") === "1") {
            setTimeout(refresh, jittered(staleWait));
            staleWait = Math.min(2 * staleWait, 60);
          } else {
            staleWait = 3;
          }
          return r.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-live]");
          doc.querySelectorAll("[data-live][id]").forEach(function (fresh) {
            var old = document.getElementById(fresh.id);
            if (!old || old.innerHTML === fresh.innerHTML) { return; }
            if (old === focused) { return; } // do not pull the region from under the keyboard
            old.replaceWith(fresh);
            localTimes(fresh);
            bars(fresh);
          });
        })
        .catch(function () { /* the next event or reconnect retries */ });
    }, 150);
  }

  // The stream may be refused (503 with Retry-After when the server holds
  // as many as it allows) or fail for good: then the page polls, fetching
  // itself every Retry-After seconds (with some jitter, so refused pages
  // do not come back in step), and tries the stream again each time.
  // main's data-live-mode says which is in use: "stream" or "poll".
  function live() {
    var main = document.querySelector("main[data-events]");
    if (!main || !window.EventSource || !window.fetch) { return; }
    var url = main.getAttribute("data-events");
    var defaultWait = 30;

    function stream() {
      var opened = false;
      var es = new EventSource(url);
      es.onmessage = refresh;
      es.onopen = function () {
        main.setAttribute("data-live-mode", "stream");
        if (opened) { refresh(); } // caught up after a reconnect
        opened = true;
      };
      es.onerror = function () {
        if (es.readyState !== EventSource.CLOSED) { return; } // the browser reconnects by itself
        es.close();
        poll();
      };
    }

    // poll refreshes the page, then asks the stream's URL whether a stream
    // is free: if so it switches back to the stream, else it waits as long
    // as the answer's Retry-After says and polls again.
    function poll() {
      main.setAttribute("data-live-mode", "poll");
      refresh();
      var ctl = new AbortController();
      fetch(url, { cache: "no-store", signal: ctl.signal, headers: { Accept: "text/event-stream" } })
        .then(function (r) {
          ctl.abort(); // the probe only wanted the status; the stream itself is EventSource's
          if (r.ok) { stream(); return; }
          var secs = parseInt(r.headers.get("Retry-After"), 10);
          later(secs > 0 ? secs : defaultWait);
        })
        .catch(function () { later(defaultWait); });
    }

    function later(secs) {
      setTimeout(poll, jittered(secs));
    }

    stream();
  }

  function init() {
    document.body.appendChild(tip);
    localTimes(document);
    bars(document);
    live();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
