/**
 * The README's set-up section says what a fresh Debian 12 machine needs
 * before its two commands: Node.js ≥ 20 (Debian's own nodejs is 18, which
 * this machine's apt confirms), and how to get it; and the two commands
 * still name scripts package.json has.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");
const setup = readme.slice(readme.indexOf("## Set-up"), readme.indexOf("\n## ", readme.indexOf("## Set-up") + 1));
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string }; scripts: Record<string, string> };

describe("README set-up", () => {
  it("states the Node ≥ 20 prerequisite package.json declares, and how a fresh machine gets it", () => {
    expect(pkg.engines.node).toBe(">=20");
    expect(setup).toContain("tsbpf needs **Node.js ≥ 20**");
    expect(setup).toContain("Debian 12's own `nodejs` package is 18");
    expect(setup).toMatch(/curl -fsSL https:\/\/deb\.nodesource\.com\/setup_20\.x \| bash - && apt-get install -y nodejs/);
  });

  it("Debian 12's nodejs really is older than 20 (when apt knows it)", () => {
    const policy = spawnSync("apt-cache", ["policy", "nodejs"], { encoding: "utf8" });
    const debian = policy.stdout?.match(/^\s+(\d+)\.\d+\.\d+\+dfsg\S*~deb12\S* \d+$/m);
    if (!debian) return; // no apt, or no Debian 12 archive configured
    expect(Number(debian[1])).toBeLessThan(20);
  });

  it("keeps its two commands, and they name scripts package.json has", () => {
    expect(setup).toContain("&& npm ci && npm start\n");
    expect(setup).toContain("\nnpm test\n");
    for (const script of ["prepare", "start", "test"]) expect(pkg.scripts[script], script).toBeDefined();
  });
});
