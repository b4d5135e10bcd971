/** Local times as strace prints them in comments (sprinttime_ex). */

/** strftime("%FT%T", localtime(sec)), then ".%09u" when `nsec` is not 0, then "%z". */
export function localIso(sec: number, nsec = 0): string {
  const d = new Date(sec * 1000);
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    (nsec ? `.${p(nsec, 9)}` : "") +
    `${off < 0 ? "-" : "+"}${p(Math.trunc(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`
  );
}

/** The ` /* time *\/` comment after a struct stat time: none for 0.0 or an impossible nsec. */
export function statTimeComment(sec: bigint, nsec: bigint): string {
  if ((sec === 0n && nsec === 0n) || nsec > 999_999_999n) return "";
  return ` /* ${localIso(Number(sec), Number(nsec))} */`;
}
