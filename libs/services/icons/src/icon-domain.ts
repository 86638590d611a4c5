import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import { isIpLiteral, stripBrackets } from '@keyhaven/outbound';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The host name whose icon is asked for, in canonical ASCII form, or null when it is not a plausible
 * host name: too long, bad labels, a numeric last label, or an IP literal (unless allowed, for tests).
 * Validation here is about syntax; where the name may lead is the outbound address policy's business.
 */
export function normalizeIconDomain(raw: string, allowIpLiterals: boolean): string | null {
  const trimmed = raw.trim().toLowerCase().replace(/\.$/, '');
  if (trimmed.length === 0 || trimmed.length > 253) return null;
  if (isIpLiteral(trimmed)) {
    if (!allowIpLiterals) return null;
    try {
      return ipaddr.parse(stripBrackets(trimmed)).toString();
    } catch {
      return null;
    }
  }
  // Letters, digits, dots and hyphens only: domainToASCII alone would cut `a.com/x` or `u@a.com` to a host.
  if (/[^\p{L}\p{N}\p{M}.-]/u.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed);
  if (ascii === '' || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  // `1.2.3` or `0x7f.1` are IP-ish forms URL parsers turn into addresses.
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? '')) return null;
  return ascii;
}

/** The host part of a URL for this domain (IPv6 literals in brackets). */
export function urlHost(domain: string): string {
  return domain.includes(':') ? `[${domain}]` : domain;
}
