#pragma once
// The "uid" of a canonical payload (EncodePayload, message.h) without a full
// parse: the read model's thinning and the archiver's rows need it per message.
//
// EncodePayload writes ,"uid":"..." after the id and before any client text,
// and a JSON string cannot hold an unescaped quote, so the first ,"uid":" is
// the field; the comma anchors it to a member boundary (presence records
// carry "uids", likes none). This is the rule for every caller: the room
// cache used to take the first "uid":" and any escaped text as written.
#include <string_view>

namespace danmu::core {

// false when there is no uid field, or when its value holds an escape: the
// caller then decodes the payload rather than take escaped text for the uid.
bool PayloadUid(std::string_view payload, std::string_view* uid);

}  // namespace danmu::core
