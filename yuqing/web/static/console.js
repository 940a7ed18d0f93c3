// The alerts inbox and the rules editor. Post text and rule text are untrusted: they are
// only ever put into the page with textContent, never as HTML. Writes go through the REST
// API with the API token kept in this tab's sessionStorage.
(function () {
  "use strict";
  var YQ = window.YQ, labels = YQ.labels, T = YQ.T, el = YQ.el, api = YQ.api;
  var problem = YQ.problem, showError = YQ.showError, tokenBox = YQ.tokenBox;
  function localTime(iso) { return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : ""; }

  // -- alerts ----------------------------------------------------------------------------
  function ackedSpan(alert) {
    return el("span", "acked-by", T("已确认") + " · " + (alert.acknowledged_by || "") + " · " + localTime(alert.acknowledged_at));
  }
  function card(alert) {
    var art = el("article", "alert sev-" + alert.severity + (alert.status === "acknowledged" ? " acked" : ""));
    art.dataset.id = alert.id;
    art.dataset.seq = alert.seq;
    var meta = el("div", "meta");
    meta.appendChild(el("span", "badge sev", labels.severity[alert.severity] || alert.severity));
    meta.appendChild(el("span", "kind", labels.kind[alert.kind] || alert.kind));
    meta.appendChild(el("span", "rule", T("规则") + "：" + alert.rule_id));
    meta.appendChild(el("time", null, localTime(alert.created_at)));
    if (alert.suppressed) { meta.appendChild(el("span", "folded", T("合并") + " " + alert.suppressed + " " + T("次"))); }
    art.appendChild(meta);
    var h = el("h3", "alert-title");
    var link = el("a", null, alert.title);
    link.href = "/alerts/" + encodeURIComponent(alert.id);
    h.appendChild(link);
    art.appendChild(h);
    var ul = el("ul", "alert-reasons");
    (alert.reasons || []).forEach(function (r) { ul.appendChild(el("li", null, r)); });
    art.appendChild(ul);
    if (alert.samples && alert.samples.length) {
      var samples = el("div", "samples");
      alert.samples.forEach(function (s) {
        var p = el("p", "sample");
        p.appendChild(el("span", "src", s.source));
        p.appendChild(document.createTextNode(" "));
        p.appendChild(el("span", "text", s.text));
        samples.appendChild(p);
      });
      art.appendChild(samples);
    }
    var actions = el("div", "actions");
    if (alert.event_id) {
      var ev = el("a", "evlink", T("查看事件") + " →");
      ev.href = "/events/" + encodeURIComponent(alert.event_id);
      actions.appendChild(ev);
    }
    var open = el("button", "open-case", T("立案"));
    open.type = "button";
    open.dataset.alert = alert.id;
    actions.appendChild(open);
    if (alert.status === "acknowledged") {
      actions.appendChild(ackedSpan(alert));
    } else {
      var button = el("button", "ack", T("确认"));
      button.type = "button";
      button.dataset.id = alert.id;
      actions.appendChild(button);
    }
    art.appendChild(actions);
    return art;
  }

  function alerts() {
    var list = document.getElementById("alert-list");
    if (!list) { return; }
    list.addEventListener("click", function (e) {
      var button = e.target.closest("button.ack");
      if (!button) { return; }
      button.disabled = true;
      var who = YQ.who();  // default: the signed-in user
      api("POST", "/api/v1/alerts/" + encodeURIComponent(button.dataset.id) + "/ack", { by: who }).then(function (answer) {
        if (answer.status !== 200) {
          button.disabled = false;
          showError(problem(answer));
          return;
        }
        showError("");
        var art = button.closest("article.alert");
        art.classList.add("acked");
        button.replaceWith(ackedSpan(answer.data.alert));
      });
    });
    if (list.dataset.after === undefined || typeof EventSource === "undefined") { return; }
    var status = list.dataset.status, rule = list.dataset.rule;
    var live = document.getElementById("live-state");
    var source = new EventSource("/alerts/stream?after=" + encodeURIComponent(list.dataset.after));
    source.addEventListener("open", function () { live.textContent = "● " + T("实时"); live.className = "live on"; });
    source.addEventListener("error", function () { live.textContent = T("连接中断，重连中"); live.className = "live off"; });
    source.addEventListener("alert", function (e) {
      var alert = JSON.parse(e.data);
      if ((status && alert.status !== status) || (rule && alert.rule_id !== rule)) { return; }
      if (list.querySelector('article.alert[data-id="' + CSS.escape(alert.id) + '"]')) { return; }
      var node = card(alert);
      node.classList.add("fresh");
      list.insertBefore(node, list.firstChild);
      document.getElementById("no-alerts").hidden = true;
    });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  // -- rules -----------------------------------------------------------------------------
  function post(doc) {
    var art = el("article", "post");
    var meta = el("div", "meta");
    meta.appendChild(el("span", "when", localTime(doc.published_at)));
    meta.appendChild(el("span", "src", doc.source));
    if (doc.author) { meta.appendChild(el("span", "author", "@" + doc.author)); }
    art.appendChild(meta);
    art.appendChild(el("p", "text", doc.text));
    return art;
  }

  function rules() {
    var form = document.getElementById("rule-form");
    if (!form) { return; }
    var query = document.getElementById("rule-query");
    var text = document.getElementById("rule-text");
    var status = document.getElementById("query-status");
    var count = document.getElementById("preview-count");
    var list = document.getElementById("preview-list");
    var saveStatus = document.getElementById("save-status");
    var timer = null, asked = 0;

    function syntaxProblem(error) {
      status.className = "wide check bad";
      status.textContent = "";
      status.appendChild(el("span", null, error.message));
      var column = error.details && error.details.column;
      if (column) {
        var pre = el("pre", "caret");
        pre.textContent = query.value + "\n" + " ".repeat(Math.max(0, column - 1)) + "^";
        status.appendChild(pre);
      }
    }
    function check() {
      var q = query.value.trim();
      var mine = ++asked;
      if (!q) { status.textContent = ""; count.textContent = ""; list.textContent = ""; return; }
      var url = "/rules/preview?q=" + encodeURIComponent(q) + (text.value.trim() ? "&text=" + encodeURIComponent(text.value) : "");
      fetch(url).then(function (r) { return r.json(); }).then(function (data) {
        if (mine !== asked) { return; }
        list.textContent = "";
        if (!data.ok) { syntaxProblem(data.error); count.textContent = ""; return; }
        status.className = "wide check good";
        var said = "✓ " + T("语法正确");
        if (data.text_matches !== null) { said += " · " + (data.text_matches ? T("文本命中") : T("文本未命中")); }
        status.textContent = said;
        count.textContent = T("匹配") + " " + data.matched + " " + T("条，已检查最近") + " " + data.scanned + " " + T("条帖文");
        data.items.forEach(function (doc) { list.appendChild(post(doc)); });
        if (!data.items.length) { list.appendChild(el("p", "empty", T("暂无匹配帖文"))); }
      });
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 250); }
    query.addEventListener("input", later);
    text.addEventListener("input", later);

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var triggers;
      try { triggers = JSON.parse(document.getElementById("rule-triggers").value || "[]"); } catch (err) {
        saveStatus.className = "bad";
        saveStatus.textContent = String(err.message);
        return;
      }
      var body = {
        name: document.getElementById("rule-name").value.trim(),
        query: query.value,
        triggers: triggers,
        severity: document.getElementById("rule-severity").value,
        enabled: document.getElementById("rule-enabled").checked
      };
      var id = document.getElementById("rule-id").value.trim();
      if (id) { body.id = id; }
      api("POST", "/api/v1/rules", body).then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          saveStatus.className = "good";
          saveStatus.textContent = T("已保存") + "：" + answer.data.rule.id;
          setTimeout(function () { window.location.reload(); }, 600);
          return;
        }
        saveStatus.className = "bad";
        saveStatus.textContent = problem(answer);
        if (answer.data && answer.data.error && answer.data.error.code === "rule_syntax") { syntaxProblem(answer.data.error); }
      });
    });

    var table = document.getElementById("rules-table");
    table.addEventListener("click", function (e) {
      var edit = e.target.closest("button.edit");
      if (edit) {
        var rule = JSON.parse(edit.dataset.rule);
        document.getElementById("rule-id").value = rule.id;
        document.getElementById("rule-name").value = rule.name;
        query.value = rule.query;
        document.getElementById("rule-triggers").value = JSON.stringify(rule.triggers);
        document.getElementById("rule-severity").value = rule.severity;
        document.getElementById("rule-enabled").checked = rule.enabled;
        check();
        form.scrollIntoView();
        return;
      }
      var del = e.target.closest("button.delete");
      if (del && window.confirm(T("确定删除规则") + " " + del.dataset.id + "？")) {
        api("DELETE", "/api/v1/rules/" + encodeURIComponent(del.dataset.id)).then(function (answer) {
          if (answer.status === 200) { window.location.reload(); return; }
          saveStatus.className = "bad";
          saveStatus.textContent = problem(answer);
        });
      }
    });
  }

  function start() { tokenBox(); alerts(); rules(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
