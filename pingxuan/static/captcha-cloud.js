/* The captcha page with a cloud captcha (PINGXUAN_CAPTCHA_PROVIDER=tencent or aliyun, voting/captcha.py): loads the
   provider's script from its CDN (that page's Content-Security-Policy allows it), opens the check when the button
   is pressed, and sends the ticket the provider's callback gives in the form's "captcha" field. */
(function () {
  "use strict";
  var button = document.getElementById("captcha-button"), form = document.getElementById("captcha-form");
  var field = document.getElementById("captcha-ticket");
  if (!button || !form || !field) { return; }
  var data = button.dataset;

  function load(src, then) {
    var script = document.createElement("script");
    script.src = src;
    script.onload = then;
    document.head.appendChild(script);
  }

  function send(value) {
    field.value = value;
    form.submit();
  }

  if (data.provider === "tencent") {
    button.disabled = true;
    load("https://turing.captcha.qcloud.com/TJNCaptcha-global.js", function () { button.disabled = false; });
    button.addEventListener("click", function () {
      var check = new window.TencentCaptcha(data.appId, function (res) {
        if (res && res.ret === 0 && res.ticket) { send(JSON.stringify({ticket: res.ticket, randstr: res.randstr})); }
      }, {userLanguage: data.language === "en" ? "en" : "zh-cn"});
      check.show();
    });
  } else if (data.provider === "aliyun") {
    window.AliyunCaptchaConfig = {region: "cn", prefix: data.prefix};
    load("https://o.alicdn.com/captcha-frontend/aliyunCaptcha/AliyunCaptcha.js", function () {
      window.initAliyunCaptcha({
        SceneId: data.sceneId, mode: "popup", element: "#captcha-element", button: "#captcha-button",
        language: data.language === "en" ? "en" : "cn",
        success: function (captchaVerifyParam) { send(captchaVerifyParam); },
        fail: function () {}, getInstance: function () {}
      });
    });
  }
})();
