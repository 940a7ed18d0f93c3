// The 监测方案 page: list, edit and delete plans through /api/v1/monitoring-plans, and check each rule's
// query as one types with POST /api/v1/rules/test. Text from the store and from users is
// only put into the page with textContent, never as HTML. Writes carry the session's CSRF
// token, or the API token kept in this tab's sessionStorage.
(function () {
  "use strict";
  var YQ = window.YQ, labels = YQ.labels, T = YQ.T, el = YQ.el, api = YQ.api;
  var problem = YQ.problem, showError = YQ.showError, tokenBox = YQ.tokenBox;

  // -- rule rows, with the live check -----------------------------------------------------
  var rulesBox = document.getElementById("rules");
  var sourcesBox = document.getElementById("sources");
  function input(cls, value, placeholder) {
    var node = el("input", cls);
    node.value = value || "";
    if (placeholder) { node.placeholder = placeholder; }
    return node;
  }
  function preview(data) {
    var list = document.getElementById("preview-list");
    list.textContent = "";
    document.getElementById("preview-count").textContent =
      T("匹配") + " " + data.matched + " " + T("条，已检查最近") + " " + data.scanned + " " + T("条帖文");
    (data.items || []).forEach(function (doc) {
      var art = el("article", "post");
      var meta = el("div", "meta");
      meta.appendChild(el("span", "badge", doc.source));
      meta.appendChild(el("time", null, (doc.published_at || "").slice(0, 16).replace("T", " ")));
      art.appendChild(meta);
      art.appendChild(el("p", "text", doc.text));
      list.appendChild(art);
    });
  }
  function check(row) {
    var query = row.querySelector(".rule-query").value;
    var text = row.querySelector(".rule-text").value;
    var status = row.querySelector(".rule-status");
    if (!query.trim()) { status.textContent = ""; status.className = "rule-status"; return; }
    api("POST", "/api/v1/rules/test", { query: query, text: text.trim() ? text : null, limit: 10 }).then(function (answer) {
      if (answer.status !== 200) {
        status.className = "rule-status check bad";
        status.textContent = problem(answer);
        return;
      }
      var d = answer.data;
      status.className = "rule-status check good";
      var said = T("语法正确") + " · " + T("匹配") + " " + d.matched + " " + T("条，已检查最近") + " " + d.scanned + " " + T("条帖文");
      if (d.text_matches !== null) { said += " · " + (d.text_matches ? T("文本命中") : T("文本未命中")); }
      status.textContent = said;
      preview(d);
    });
  }
  function addRule(rule) {
    rule = rule || {};
    var row = el("div", "row rule-row");
    row.dataset.id = rule.id || "";
    row.dataset.triggers = JSON.stringify(rule.triggers || [{ kind: "match" }]);
    row.dataset.cooldown = rule.cooldown || "";
    var name = input("rule-name", rule.name, T("名称"));
    var query = el("textarea", "rule-query");
    query.value = rule.query || "";
    query.placeholder = T("表达式") + "：(食堂 OR 餐厅) AND (过期 OR 变质) -广告";
    var severity = el("select", "rule-severity");
    Object.keys(labels.severity).forEach(function (k) {
      var opt = el("option", null, labels.severity[k]);
      opt.value = k;
      opt.selected = k === (rule.severity || "medium");
      severity.appendChild(opt);
    });
    var text = input("rule-text", "", T("测试文本（可选）"));
    var remove = el("button", "remove", T("删除"));
    remove.type = "button";
    remove.addEventListener("click", function () { row.remove(); });
    var status = el("p", "rule-status");
    status.setAttribute("aria-live", "polite");
    [name, query, severity, text, remove, status].forEach(function (n) { row.appendChild(n); });
    var timer = null;
    function later() { clearTimeout(timer); timer = setTimeout(function () { check(row); }, 300); }
    query.addEventListener("input", later);
    text.addEventListener("input", later);
    rulesBox.appendChild(row);
    if (rule.query) { later(); }
    return row;
  }
  function addSource(source) {
    source = source || {};
    var row = el("div", "row source-row");
    row.dataset.id = source.id || "";
    var kind = el("select", "source-kind");
    Object.keys(labels.kinds).forEach(function (k) {
      var opt = el("option", null, labels.kinds[k]);
      opt.value = k;
      opt.selected = k === (source.kind || "rss");
      kind.appendChild(opt);
    });
    var target = input("target", source.url || source.path || (source.kind === "push" ? source.name : ""), T("地址"));
    var name = input("source-name", source.kind === "push" ? "" : source.name, T("来源名（可选）"));
    var interval = input("interval", source.interval || labels.default_interval, T("间隔"));
    interval.size = 6;
    function shape() {
      var k = kind.value;
      target.placeholder = k === "files" ? T("文件路径或通配符") : k === "push" ? T("推送来源名") : T("地址");
      name.hidden = k === "push";
      interval.hidden = k === "push";
    }
    kind.addEventListener("change", shape);
    shape();
    var remove = el("button", "remove", T("删除"));
    remove.type = "button";
    remove.addEventListener("click", function () { row.remove(); });
    [kind, target, name, interval, remove].forEach(function (n) { row.appendChild(n); });
    sourcesBox.appendChild(row);
    return row;
  }

  // -- the form -----------------------------------------------------------------------------
  var form = document.getElementById("plan-form");
  function fill(plan) {
    plan = plan || {};
    form.dataset.editing = plan.id || "";
    document.getElementById("plan-id").value = plan.id || "";
    document.getElementById("plan-id").readOnly = !!plan.id;
    document.getElementById("plan-name").value = plan.name || "";
    document.getElementById("plan-department").value = plan.department || "";
    document.getElementById("plan-enabled").checked = plan.enabled !== false;
    document.getElementById("plan-regions").value = (plan.regions || []).join(", ");
    Array.prototype.forEach.call(form.querySelectorAll("input.notify"), function (box) {
      box.checked = (plan.notify || []).indexOf(box.value) >= 0;
    });
    rulesBox.textContent = "";
    sourcesBox.textContent = "";
    (plan.rules && plan.rules.length ? plan.rules : [{}]).forEach(addRule);
    (plan.sources && plan.sources.length ? plan.sources : [{}]).forEach(addSource);
  }
  function body() {
    var plan = {
      name: document.getElementById("plan-name").value.trim(),
      department: document.getElementById("plan-department").value.trim() || null,
      enabled: document.getElementById("plan-enabled").checked,
      regions: document.getElementById("plan-regions").value.split(/[,，、\s]+/).filter(Boolean),
      notify: Array.prototype.filter.call(form.querySelectorAll("input.notify"), function (b) { return b.checked; })
        .map(function (b) { return b.value; }),
      rules: [],
      sources: []
    };
    var id = document.getElementById("plan-id").value.trim();
    if (id) { plan.id = id; }
    Array.prototype.forEach.call(rulesBox.querySelectorAll(".rule-row"), function (row) {
      var query = row.querySelector(".rule-query").value.trim();
      if (!query) { return; }
      var rule = { name: row.querySelector(".rule-name").value.trim() || undefined, query: query,
        severity: row.querySelector(".rule-severity").value, triggers: JSON.parse(row.dataset.triggers) };
      if (row.dataset.id) { rule.id = row.dataset.id; }
      if (row.dataset.cooldown) { rule.cooldown = row.dataset.cooldown; }
      plan.rules.push(rule);
    });
    Array.prototype.forEach.call(sourcesBox.querySelectorAll(".source-row"), function (row) {
      var kind = row.querySelector(".source-kind").value;
      var target = row.querySelector(".target").value.trim();
      if (!target) { return; }
      var source = { kind: kind };
      if (row.dataset.id) { source.id = row.dataset.id; }
      if (kind === "push") { source.name = target; } else {
        source[kind === "files" ? "path" : "url"] = target;
        source.interval = row.querySelector(".interval").value.trim() || labels.default_interval;
        var name = row.querySelector(".source-name").value.trim();
        if (name) { source.name = name; }
      }
      plan.sources.push(source);
    });
    return plan;
  }
  function start() {
    tokenBox();
    fill(null);
    document.getElementById("add-rule").addEventListener("click", function () { addRule(); });
    document.getElementById("add-source").addEventListener("click", function () { addSource(); });
    document.getElementById("plan-new").addEventListener("click", function () { fill(null); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = document.getElementById("save-status");
      var plan = body();
      var editing = form.dataset.editing;
      var call = editing ? api("PUT", "/api/v1/monitoring-plans/" + encodeURIComponent(editing), plan) : api("POST", "/api/v1/monitoring-plans", plan);
      call.then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          status.className = "good";
          status.textContent = T("已保存") + "：" + answer.data.plan.id;
          showError("");
          setTimeout(function () { window.location.reload(); }, 600);
        } else {
          status.className = "bad";
          status.textContent = problem(answer);
        }
      });
    });
    document.getElementById("plans-table").addEventListener("click", function (e) {
      var edit = e.target.closest("button.edit");
      if (edit) {
        fill(JSON.parse(edit.dataset.plan));
        form.scrollIntoView();
        return;
      }
      var del = e.target.closest("button.delete");
      if (del && window.confirm(T("确定删除方案") + " " + del.dataset.id + "?")) {
        api("DELETE", "/api/v1/monitoring-plans/" + encodeURIComponent(del.dataset.id)).then(function (answer) {
          if (answer.status === 200) { window.location.reload(); } else { showError(problem(answer)); }
        });
      }
    });
  }
  // -- 我的订阅: as the signed-in user (the page shows that user's subscriptions) -----------
  function subscriptions() {
    var table = document.getElementById("subscriptions-table");
    if (!table) { return; }
    table.addEventListener("click", function (e) {
      var button = e.target.closest("button.subscribe");
      if (!button) { return; }
      var row = button.closest("tr");
      var status = row.querySelector(".sub-status");
      var mode = row.querySelector(".sub-mode").value;
      var url = "/api/v1/users/me/subscriptions/" + encodeURIComponent(row.dataset.plan);
      if (!mode && !row.dataset.subscribed) { status.className = "sub-status"; status.textContent = ""; return; }
      var call = mode
        ? api("PUT", url, { mode: mode, channel: row.querySelector(".sub-channel").value }, { session: true })
        : api("DELETE", url, undefined, { session: true });
      button.disabled = true;
      call.then(function (answer) {
        button.disabled = false;
        if (answer.status !== 200) { status.className = "sub-status bad"; status.textContent = problem(answer); return; }
        if (mode) { row.dataset.subscribed = "1"; } else { delete row.dataset.subscribed; }
        status.className = "sub-status good";
        status.textContent = T(mode ? "已订阅" : "已退订");
      });
    });
  }
  subscriptions();
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
