// PAPR hypervisor-call numbers, flags and return codes (arch/powerpc/include/asm/hvcall.h, v3.7). Flags are
// register values (u64): bigint, so H_EXACT (bit 24 in IBM numbering = 1 << 39) stays exact.

export const H_SUCCESS = 0;
export const H_HARDWARE = -1;
export const H_FUNCTION = -2;
export const H_PARAMETER = -4;
export const H_NOT_FOUND = -5;
export const H_PTEG_FULL = -6;
/** KVM-internal: the real-mode handler cannot finish, retry in virtual mode (kvm_book3s_64.h era). */
export const H_TOO_HARD = 9999;

/** IBM bit numbering: flag bit b of a 64-bit register is 1 << (63 - b). */
const bit = (b: number): bigint => 1n << BigInt(63 - b);
export const H_EXACT = bit(24);
/** Guest asks for a local (this-core) invalidation: 0x10000000. */
export const H_LOCAL = bit(35);
export const H_ANDCOND = bit(33);
export const H_AVPN = bit(32);
export const H_READ_4 = bit(26);

export const H_REMOVE = 0x04;
export const H_ENTER = 0x08;
export const H_PROTECT = 0x18;
export const H_BULK_REMOVE = 0x24;

/** Name of a return code, for traces and tests. */
export function hret(rc: number): string {
  const names: Record<number, string> = {
    0: "H_SUCCESS",
    [-1]: "H_HARDWARE",
    [-2]: "H_FUNCTION",
    [-4]: "H_PARAMETER",
    [-5]: "H_NOT_FOUND",
    [-6]: "H_PTEG_FULL",
    9999: "H_TOO_HARD",
  };
  return names[rc] ?? `H_${rc}`;
}
