// Cases: the 立案 buttons (event page, alerts inbox) and the case page (status, level,
// owner, plans and ticks, the statement editor with a live four-principle check, publish).
// Every change goes through the REST API with the API token kept in this tab's
// sessionStorage; text from the server is put into the page with textContent only.
(function () {
  "use strict";
  var YQ = window.YQ, T = YQ.T, el = YQ.el, api = YQ.api, who = YQ.who;
  var problem = YQ.problem, showError = YQ.showError, tokenBox = YQ.tokenBox;

  // -- 立案 from an event or an alert ----------------------------------------------------
  document.addEventListener("click", function (e) {
    var button = e.target.closest("button.open-case");
    if (!button) { return; }
    var body = { by: who() };
    if (button.dataset.event) { body.event_id = button.dataset.event; }
    if (button.dataset.alert) { body.alert_id = button.dataset.alert; }
    button.disabled = true;
    api("POST", "/api/v1/cases", body).then(function (answer) {
      button.disabled = false;
      if (answer.status !== 201) { showError(problem(answer)); return; }
      window.location.href = "/cases/" + encodeURIComponent(answer.data.case.id);
    });
  });

  // -- the case page ---------------------------------------------------------------------
  function casePage() {
    var root = document.getElementById("case");
    if (!root) { return; }
    var base = "/api/v1/cases/" + encodeURIComponent(root.dataset.id);
    function change(path, body, then) {
      body.by = who();
      return api("POST", base + path, body).then(function (answer) {
        if (answer.status !== 200 && answer.status !== 201) { showError(problem(answer)); return null; }
        showError("");
        if (then) { return then(answer); }
        window.location.reload();
        return answer;
      });
    }
    root.addEventListener("click", function (e) {
      var target = e.target.closest("button");
      if (!target) { return; }
      if (target.classList.contains("transition")) {
        change("/transition", { to: target.dataset.to });
      } else if (target.classList.contains("tick")) {
        target.disabled = true;
        change("/tick", { item: target.dataset.item }).then(function (a) { if (!a) { target.disabled = false; } });
      } else if (target.classList.contains("publish")) {
        if (!window.confirm(T("确定发布这份通报"))) { return; }
        var channel = document.getElementById("statement-channel");
        change("/statements/" + encodeURIComponent(target.dataset.sid) + "/publish", { channel: channel ? channel.value : "" });
      } else if (target.id === "plan-attach") {
        change("/plan", { plan_id: document.getElementById("plan-select").value });
      } else if (target.id === "level-save") {
        var reason = document.getElementById("level-reason-input").value.trim();
        if (!reason) { showError(T("请填写调整理由")); return; }
        change("/level", { level: document.getElementById("level-select").value, reason: reason });
      } else if (target.id === "owner-save") {
        var departments = document.getElementById("departments-input").value.split(/[,，、\s]+/).filter(Boolean);
        change("/owner", { owner: document.getElementById("owner-input").value, departments: departments });
      } else if (target.id === "statement-save" || target.id === "statement-publish") {
        var text = document.getElementById("statement-text").value;
        if (!text.trim()) { showError(T("请先输入通报内容")); return; }
        var publish = target.id === "statement-publish";
        if (publish && !window.confirm(T("确定发布这份通报"))) { return; }
        change("/statements", { text: text }, function (answer) {
          if (!publish) { window.location.reload(); return answer; }
          var channel = document.getElementById("statement-channel").value;
          return change("/statements/" + encodeURIComponent(answer.data.statement_id) + "/publish", { channel: channel });
        });
      }
    });
    editor(root);
  }

  // The live check: the page data endpoint checks the text as one types (a read).
  function editor(root) {
    var area = document.getElementById("statement-text");
    var list = document.getElementById("principles");
    if (!area || !list) { return; }
    var timer = null, asked = 0;
    function render(check) {
      list.textContent = "";
      check.results.forEach(function (r) {
        var li = el("li", "principle " + (r.passed ? "pass" : "fail"));
        li.dataset.name = r.name;
        li.appendChild(el("b", "mark", (r.passed ? "✓ " : "✗ ") + r.label));
        li.appendChild(el("span", "verdict", r.passed ? T("通过") : T("未通过")));
        li.appendChild(el("p", "explanation", r.explanation));
        list.appendChild(li);
      });
      list.dataset.passed = check.passed ? "yes" : "no";
    }
    function run() {
      var text = area.value;
      if (!text.trim()) { list.textContent = ""; list.appendChild(el("li", "empty", T("请先输入通报内容"))); return; }
      var mine = ++asked;
      list.classList.add("busy");
      api("POST", "/cases/" + encodeURIComponent(root.dataset.id) + "/check", { text: text }, true).then(function (answer) {
        if (mine !== asked) { return; }
        list.classList.remove("busy");
        if (answer.status !== 200) { showError(problem(answer)); return; }
        render(answer.data.check);
      });
    }
    area.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(run, 250);
    });
  }

  tokenBox();
  casePage();
})();
