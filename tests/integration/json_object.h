#pragma once
// A JSON object parsed from an answer's body for a test to read; nullptr
// when the body is not one (the test then fails on its own message, not on
// an exception from inside the parser).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <exception>
#include <string>

namespace danmu::testing {

inline Poco::JSON::Object::Ptr JsonObject(const std::string& body) {
  try {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace danmu::testing
