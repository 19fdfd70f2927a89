import { describe, expect, it } from "vitest";
import { money } from "./format";

describe("money", () => {
  it("writes micro-dollars like the Rust side", () => {
    // The same cases as tokenwise-core's Money Display tests.
    expect(money(0)).toBe("$0.00");
    expect(money(10_000)).toBe("$0.01");
    expect(money(12_300)).toBe("$0.012");
    expect(money(400_000)).toBe("$0.40");
    expect(money(450)).toBe("$0.00045");
    expect(money(3_000)).toBe("$0.003");
    expect(money(12_345_678)).toBe("$12.35");
    expect(money(-400_000)).toBe("-$0.40");
    expect(money(1)).toBe("$0.000001");
    expect(money(9_999)).toBe("$0.01");
    expect(money(99_999)).toBe("$0.10");
    expect(money(12_344_999)).toBe("$12.34");
  });
});
