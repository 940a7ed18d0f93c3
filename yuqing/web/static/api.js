// Shared by every page script (base.html loads it first): the page's labels, element
// building, the REST API call and its error messages, and the API-token box. A write goes
// with the API token kept in this tab's sessionStorage, or as the signed-in user (session
// cookie plus the CSRF header). Text from the server is only ever put into the page with
// textContent, never as HTML.
(function () {
  "use strict";
  var TOKEN = "yuqing-token", USER = "yuqing-user";
  var labelsNode = document.getElementById("page-labels");
  var labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  labels.text = labels.text || {};
  labels.severity = labels.severity || {};
  labels.kind = labels.kind || {};
  labels.kinds = labels.kinds || {};

  function T(s) { return labels.text[s] || s; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function token() { return sessionStorage.getItem(TOKEN); }
  function who() { return localStorage.getItem(USER) || undefined; }  // default: the signed-in user

  // options.session: send as the signed-in user only, never with a stored API token
  function api(method, url, body, options) {
    var headers = { "Accept": "application/json" };
    var stored = token();
    if (stored && !(options && options.session)) { headers["Authorization"] = "Bearer " + stored; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    var csrf = document.cookie.match(/(?:^|; )yuqing_csrf=([^;]*)/);
    if (csrf && method !== "GET") { headers["X-CSRF-Token"] = decodeURIComponent(csrf[1]); }
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
      });
  }
  function problem(answer) {
    var err = answer.data && answer.data.error;
    if (err && err.code === "write_disabled") { return err.message; }
    if (answer.status === 403 && !token()) { return T("当前账号无权执行此操作"); }
    if (answer.status === 401 || answer.status === 403) {
      var box = document.getElementById("token-box");
      if (box && answer.status === 401) { box.open = true; }
      return token() ? T("令牌无效或无权限") : T("请先登录");
    }
    return err && err.message ? err.message : T("操作失败") + " (" + answer.status + ")";
  }
  function showError(message) {
    var node = document.getElementById("action-error");
    if (!node) { return; }
    node.textContent = message || "";
    node.hidden = !message;
  }

  // The token box (API token, and the name recorded as "by" where the page has that field);
  // set up once however many page scripts ask for it.
  var boxReady = false;
  function tokenBox() {
    var input = document.getElementById("api-token");
    if (!input || boxReady) { return; }
    boxReady = true;
    var user = document.getElementById("api-user");
    var state = document.getElementById("token-state");
    function show() { state.textContent = token() ? "✓" : ""; }
    input.value = token() || "";
    if (user) { user.value = localStorage.getItem(USER) || ""; }
    show();
    document.getElementById("token-save").addEventListener("click", function () {
      if (input.value.trim()) { sessionStorage.setItem(TOKEN, input.value.trim()); } else { sessionStorage.removeItem(TOKEN); }
      if (user) {
        if (user.value.trim()) { localStorage.setItem(USER, user.value.trim()); } else { localStorage.removeItem(USER); }
      }
      show();
      showError("");
    });
  }

  window.YQ = { labels: labels, T: T, el: el, who: who, api: api, problem: problem, showError: showError, tokenBox: tokenBox };
})();
