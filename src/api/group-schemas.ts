import { z } from 'zod';
import { normaliseLocal } from '../base/jid';
import { hasNonXmlChar } from '../xml/characters';
// For .openapi() on zod's types (added there, once).
import './schemas';

/** A group's id: the local part of its room's JID, in normal form (what a client types to enter it). */
export const GroupId = z
  .string()
  .min(1)
  .max(1023)
  .refine((id) => normaliseLocal(id) === id, { message: 'not a valid room name in normal form (lower case, no spaces, @, /, :, quotes, < or >)' })
  .openapi({ description: "The room's local part: the group is <id>@MUC_DOMAIN", example: 'crew' });

const MemberEntry = z.string().min(1).max(3071).openapi({ description: 'A username, or a bare JID of this domain', example: 'alice' });

/** POST /groups */
export const CreateGroup = z
  .object({
    name: z
      .string()
      .min(1)
      .max(200)
      .refine((name) => !hasNonXmlChar(name), { message: 'contains characters XML 1.0 does not allow' })
      .openapi({ description: "The group's name (muc#roomconfig_roomname); also its id when no id is given and the name is a valid id", example: 'crew' }),
    id: GroupId.optional(),
    members: z.array(MemberEntry).default([]).openapi({ description: 'Users made members at once (at most API_MAX_RECIPIENTS)' }),
    owner: MemberEntry.optional().openapi({ description: "The group's owner (a member too); without one, the gateway's domain owns it" }),
  })
  .strict()
  .openapi('CreateGroup');

export const GroupMember = z
  .object({
    username: z.string().nullable().openapi({ description: 'null for a JID of another domain (added over XMPP)' }),
    jid: z.string().openapi({ example: 'alice@example.com' }),
    affiliation: z.enum(['owner', 'admin', 'member']).openapi({ description: 'XEP-0045 §5.2' }),
  })
  .openapi('GroupMember');

export const Group = z
  .object({
    id: z.string().openapi({ example: 'crew' }),
    jid: z.string().openapi({ example: 'crew@conference.example.com' }),
    name: z.string(),
    owner: z.string().nullable().openapi({ description: 'The username of the first owner; null when the gateway owns the group' }),
    members: z.array(GroupMember).openapi({ description: 'Everyone with membership, owners first' }),
  })
  .openapi('Group');

export const UserGroups = z
  .object({
    groups: z.array(
      z.object({
        id: z.string(),
        jid: z.string(),
        name: z.string(),
        affiliation: z.enum(['owner', 'admin', 'member']),
      }),
    ),
  })
  .openapi('UserGroups');

export const GroupParam = z.object({ id: GroupId });
export const GroupMemberParam = z.object({ id: GroupId, username: z.string().openapi({ example: 'alice' }) });
