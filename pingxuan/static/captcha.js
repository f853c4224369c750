/* The captcha page's ALTCHA widget (voting/captcha.py). The widget is the npm package's "external" build, kept in
   vendor/altcha: it brings no worker and no style of its own, so the Content-Security-Policy needs no blob: worker
   and no inline style; its proof-of-work workers are our static files, registered here for every algorithm the
   server may choose (PINGXUAN_CAPTCHA_ALGORITHM). */
import "./vendor/altcha/altcha.min.js";
import "./vendor/altcha/zh-cn.js";

const pbkdf2 = new URL("vendor/altcha/pbkdf2.js", import.meta.url).href;
const sha = new URL("vendor/altcha/sha.js", import.meta.url).href;
for (const name of ["PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512"]) {
  globalThis.$altcha.algorithms.set(name, () => new Worker(pbkdf2));
}
for (const name of ["SHA-256", "SHA-384", "SHA-512"]) {
  globalThis.$altcha.algorithms.set(name, () => new Worker(sha));
}
