/**
 * Affiliations and roles (XEP-0045 §5) and who may change what (§5.1.2, §5.2.1, §8, §9, §10).
 */

/** Long-lived relation of a user to a room (§5.2). */
export type Affiliation = "owner" | "admin" | "member" | "none" | "outcast";
/** Relation of an occupant to the room while present (§5.1). */
export type Role = "moderator" | "participant" | "visitor" | "none";

export const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "none", "outcast"];
export const ROLES: readonly Role[] = ["moderator", "participant", "visitor", "none"];

const AFFILIATION_RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };
const ROLE_RANK: Record<Role, number> = { none: 0, visitor: 1, participant: 2, moderator: 3 };

export function isAffiliation(s: string | undefined): s is Affiliation {
  return s !== undefined && (AFFILIATIONS as readonly string[]).includes(s);
}

export function isRole(s: string | undefined): s is Role {
  return s !== undefined && (ROLES as readonly string[]).includes(s);
}

export function affiliationRank(a: Affiliation): number {
  return AFFILIATION_RANK[a];
}

export function roleRank(r: Role): number {
  return ROLE_RANK[r];
}

/** §5.1.2 / §5.2.1: the role an occupant gets on entering, from the affiliation and whether the room is moderated. */
export function defaultRole(affiliation: Affiliation, moderated: boolean): Role {
  switch (affiliation) {
    case "owner":
    case "admin":
      return "moderator";
    case "member":
      return "participant";
    case "none":
      return moderated ? "visitor" : "participant";
    case "outcast":
      return "none";
  }
}

/** Why a role or affiliation change is refused: the RFC 6120 condition to answer with. */
export type Refusal = "forbidden" | "not-allowed" | null;

/**
 * May `actor` (affiliation, role) give `target` (current affiliation and role) the role `to`?
 * - only moderators change roles (§8: else forbidden);
 * - an occupant whose affiliation is admin or owner is always a moderator: only an actor of strictly higher
 *   affiliation may kick it, and nobody may mute it (§8.2, §8.4, §9.7: not-allowed);
 * - granting moderator status, or lowering a moderator to participant or visitor, is an admin use case
 *   (§9.6, §9.7: forbidden for plain moderators). Kicking a moderator that is not an admin is not.
 */
export function canChangeRole(
  actor: { affiliation: Affiliation; role: Role },
  target: { affiliation: Affiliation; role: Role },
  to: Role,
): Refusal {
  if (actor.role !== "moderator") return "forbidden";
  const actorRank = affiliationRank(actor.affiliation);
  if (affiliationRank(target.affiliation) >= AFFILIATION_RANK.admin && to !== "moderator") {
    if (to !== "none" || actorRank <= affiliationRank(target.affiliation)) return "not-allowed";
  }
  const moderatorChange = to === "moderator" || (target.role === "moderator" && to !== "none");
  if (moderatorChange && actorRank < AFFILIATION_RANK.admin) return "forbidden";
  return null;
}

/**
 * May `actor` change the affiliation of someone whose current affiliation is `from` to `to`?
 * - members, outcasts and "none" are set by admins and owners (§9.1-§9.5), admins and owners only by owners
 *   (§10.3-§10.8): else forbidden;
 * - an admin cannot touch another admin's or an owner's affiliation (§9.1: not-allowed).
 */
export function canChangeAffiliation(actor: Affiliation, from: Affiliation, to: Affiliation): Refusal {
  const actorRank = affiliationRank(actor);
  if (actorRank < AFFILIATION_RANK.admin) return "forbidden";
  if ((to === "admin" || to === "owner") && actor !== "owner") return "forbidden";
  if ((from === "admin" || from === "owner") && actor !== "owner") return "not-allowed";
  return null;
}
