#include "gamewire/Session.h"

#include <string>
#include <utility>

#include "SessionCore.h"

namespace gamewire {

Session::Session() = default;

Session::~Session() = default;

bool Session::Send(SendBuffer buffer) { return _core != nullptr && _core->Send(std::move(buffer)); }

void Session::Disconnect(std::string_view reason) {
  if (_core != nullptr) _core->Close(DisconnectCode::LocalDisconnect, std::string(reason), ErrorCode::None);
}

void Session::CloseWithCause(DisconnectCode code, std::string_view reason, ErrorCode error) {
  if (_core != nullptr) _core->Close(code, std::string(reason), error);
}

bool Session::IsConnected() const noexcept { return _core != nullptr && _core->IsOpen(); }

std::uint64_t Session::SessionId() const noexcept { return _core == nullptr ? 0 : _core->Id(); }

ClientService* Session::Service() const noexcept { return _core == nullptr ? nullptr : &_core->Service(); }

std::size_t Session::QueuedSendBytes() const noexcept { return _core == nullptr ? 0 : _core->QueuedBytes(); }

}  // namespace gamewire
