// Backburner dashboard: local times, live updates that can be paused, and actions
// sent as JSON (the only kind of state change the API accepts).
(function () {
  "use strict";
  var body = document.body;
  var base = body.dataset.base || "";
  var live = localStorage.getItem("bb-live") !== "off";
  var liveButton = document.getElementById("live");

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = when.toLocaleString();
        el.title = when.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
      }
    });
  }

  function say(text) {
    var box = document.getElementById("message");
    box.textContent = text;
    box.hidden = false;
    setTimeout(function () { box.hidden = true; }, 4000);
  }

  function send(url, method, payload) {
    return fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.statusText); }
        return data;
      });
    });
  }

  function showLive() {
    liveButton.setAttribute("aria-pressed", live ? "true" : "false");
    liveButton.textContent = live ? "Live" : "Paused";
  }
  liveButton.addEventListener("click", function () {
    live = !live;
    localStorage.setItem("bb-live", live ? "on" : "off");
    showLive();
  });
  showLive();

  // Actions: buttons carry their URL and method; destructive ones ask first.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.act");
    if (!button) { return; }
    if (button.dataset.confirm && !confirm(button.dataset.confirm)) { return; }
    send(button.dataset.url, button.dataset.method || "POST", {}).then(function () {
      say(button.textContent + ": done");
      refresh(true);
    }).catch(function (error) { say(error.message); });
  });

  // Bulk actions on the jobs page: the ticked jobs, or every job matching the filter.
  // Delegated, so that they survive the live refresh replacing the page's content.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "select-page") { return; }
    document.querySelectorAll("input.pick").forEach(function (box) { box.checked = event.target.checked; });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".bulk button");
    if (!button) { return; }
    var bulk = button.closest(".bulk");
    var verb = button.dataset.verb === "requeue" ? "Retry" : "Delete";
    function act(payload) {
      send(base + "/api/jobs/" + button.dataset.verb, "POST", payload)
        .then(report(button.dataset.verb))
        .catch(function (error) { say(error.message); });
    }
    if (button.classList.contains("bulk-all")) {
      var filter = { q: bulk.dataset.q };
      if (bulk.dataset.state) { filter.state = bulk.dataset.state; }
      var what = (bulk.dataset.state ? bulk.dataset.state + " " : "") + "job" +
        (bulk.dataset.q ? "s matching \u201c" + bulk.dataset.q + "\u201d" : "s");
      // Count first (one bounded page of up to 1,000), so that the question says how many.
      var params = new URLSearchParams({ q: bulk.dataset.q, limit: "1000" });
      if (bulk.dataset.state) { params.set("state", bulk.dataset.state); }
      fetch(base + "/api/jobs?" + params, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (page) {
          var n = page.jobs.length;
          var how = page.next ? (n ? "the first " + n + " of the " : "up to 1,000 of the ") : (n + " ");
          if (confirm(verb + " " + how + what + "?")) { act({ filter: filter }); }
        })
        .catch(function (error) { say(error.message); });
    } else {
      var ids = Array.prototype.map.call(document.querySelectorAll("input.pick:checked"), function (box) { return box.value; });
      if (!ids.length) { say("Select some jobs first"); return; }
      if (!confirm(verb + " " + ids.length + " selected job" + (ids.length === 1 ? "" : "s") + "?")) { return; }
      act({ ids: ids });
    }
  });
  function report(verb) {
    return function (data) {
      var n = data[verb === "requeue" ? "requeued" : "deleted"];
      say((verb === "requeue" ? "Retried " : "Deleted ") + n + " job" + (n === 1 ? "" : "s") + (data.more ? " (more remain: again)" : ""));
      refresh(true);
    };
  }

  // Live updates: the overview polls api/stats every second for its counts and graph;
  // the other pages re-read themselves every 2 s unless the viewer is busy with them.
  var rates = { succeeded: [], failed: [] };
  var last = null;
  function drawRates() {
    ["succeeded", "failed"].forEach(function (state) {
      var line = document.getElementById("rate-" + state);
      if (!line) { return; }
      var values = rates[state];
      var top = Math.max(1, Math.max.apply(null, rates.succeeded.concat(rates.failed)));
      line.setAttribute("points", values.map(function (v, i) {
        return (i * 300 / 59).toFixed(1) + "," + (100 - v * 95 / top).toFixed(1);
      }).join(" "));
      var now = document.getElementById("now-" + state);
      if (now) { now.textContent = (values.length ? values[values.length - 1] : 0).toFixed(1); }
    });
  }
  function pollStats() {
    return fetch(base + "/api/stats", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var at = Date.now();
      Object.keys(data.states).forEach(function (state) {
        var el = document.querySelector('[data-count="' + state + '"]');
        if (el) { el.textContent = (data.exact[state] ? "" : "~") + data.states[state]; }
      });
      ["servers", "recurring"].forEach(function (key) {
        var el = document.querySelector('[data-count="' + key + '"]');
        if (el) { el.textContent = data[key]; }
      });
      if (last) {
        var seconds = Math.max(0.001, (at - last.at) / 1000);
        ["succeeded", "failed"].forEach(function (state) {
          var delta = Math.max(0, data.states[state] - last.states[state]);
          rates[state].push(delta / seconds);
          if (rates[state].length > 60) { rates[state].shift(); }
        });
        drawRates();
      }
      last = { at: at, states: data.states };
    });
  }
  function busy() {
    var active = document.activeElement;
    return (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA")) ||
      document.querySelector("input.pick:checked") !== null;
  }
  function refresh(force) {
    if (document.querySelector("[data-live-stats]")) { return pollStats(); }
    if (!force && busy()) { return Promise.resolve(); }
    return fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
      if (fresh) {
        document.getElementById("main").replaceChildren.apply(document.getElementById("main"), Array.prototype.slice.call(fresh.childNodes));
        localTimes(document.getElementById("main"));
      }
    });
  }
  var overview = document.querySelector("[data-live-stats]") !== null;
  setInterval(function () {
    if (live && !document.hidden) { refresh(false).catch(function () {}); }
  }, overview ? 1000 : 2000);
  localTimes(document);
  if (overview) { pollStats().catch(function () {}); }
})();
